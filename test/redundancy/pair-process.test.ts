import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { readTerm } from '../../src/nats/term-header.ts';
import { pairSubjects } from '../../src/redundancy/pair-control.ts';
import type { PairStatus, PairTransitionEvent } from '../../src/redundancy/pair-runner.ts';
import { TermGuard } from '../../src/redundancy/term-guard.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { TEST_TIMING } from './election-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const nats = useNats();
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const c of live)
    if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
});

interface PairProc {
  pid: number;
  exited: Promise<unknown>;
  signal(s: NodeJS.Signals): void;
}

async function spawnSide(service: string, node: string, mode: string, reason: string): Promise<PairProc> {
  const child = spawn('node', ['--import', 'tsx', 'test/redundancy/pair-process.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PAIR_NATS: nats.server().url,
      PAIR_SERVICE: service,
      PAIR_NODE: node,
      PAIR_MODE: mode,
      PAIR_REASON: reason,
      PAIR_TIMING: JSON.stringify(TEST_TIMING),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('ready')) resolve();
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    void exited.then(() => reject(new Error(`${node} exited: ${out}`)));
  });
  return { pid: child.pid!, exited, signal: (s) => process.kill(child.pid!, s) };
}

let nc: NatsConnection;
beforeAll(async () => {
  nc = await nats.connect();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PAIRTEST_HOOKS', subjects: ['pairtest.hooks.>'] });
});

/** The hook runs the processes recorded durably for a pair, per node, in order. */
async function hookRecords(service: string): Promise<Record<string, string[]>> {
  // 2.9 has no multi-filter consumers: read the whole (small) stream and keep the pair's records.
  const total = (await (await jetstreamManager(nc)).streams.info('PAIRTEST_HOOKS')).state.messages;
  const out: Record<string, string[]> = {};
  if (total === 0) return out;
  const c = await jetstream(nc).consumers.get('PAIRTEST_HOOKS');
  let seen = 0;
  for await (const m of await c.fetch({ max_messages: total, expires: 5000 })) {
    const r = decode<{ service: string; node: string; hook: string; reason: string }>(m.data);
    if (r.service === service) out[r.node] = [...(out[r.node] ?? []), `${r.hook}:${r.reason}`];
    if (++seen >= total) break;
  }
  return out;
}

/** Everything observable of one pair: transitions, hook records (from the stream), work with its term. */
function observe(service: string) {
  const transitions: PairTransitionEvent[] = [];
  const work: { node: string; term: number; admitted: string }[] = [];
  const guard = new TermGuard();
  nc.subscribe(pairSubjects().events(service), {
    callback: (_, m) => {
      transitions.push(decode<PairTransitionEvent>(m.data));
    },
  });
  nc.subscribe(`pairtest.work.${service}`, {
    callback: (_, m) => {
      const stamp = readTerm(m.headers)!;
      work.push({ node: stamp.holder, term: stamp.term, admitted: guard.admit(stamp) });
    },
  });
  const status = async (node: string) => {
    const r = await nc.request(pairSubjects().control(service, node), encode({ op: 'status' }), {
      timeout: 5000,
    });
    return decode<{ status: PairStatus }>(r.data).status;
  };
  const until = async (node: string, state: string, timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await status(node).catch(() => undefined);
      if (s?.state === state) return s;
      if (Date.now() > end) throw new Error(`${node} is ${s?.state}, not ${state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { transitions, work, guard, status, until };
}

/** Deploys a pair: the primary's process first, active on scan, then the backup's, standby. */
async function deployPair(o: ReturnType<typeof observe>, svc: string, mode: string): Promise<PairProc> {
  const s1 = await spawnSide(svc, 's1', mode, 'deploy');
  await o.until('s1', 'active on scan');
  await spawnSide(svc, 's2', mode, 'deploy');
  await o.until('s2', 'standby');
  return s1;
}

describe('redundancy - a pair of real node processes on a real nats-server', () => {
  it('SIGKILL of the active: the backup is active on scan after the lease, in a higher term', async () => {
    const svc = 'proc-kill';
    const o = observe(svc);
    const s1 = await deployPair(o, svc, 'warm');
    s1.signal('SIGKILL');
    await s1.exited;
    const s = await o.until('s2', 'active on scan');
    expect(s.term).toBe(2);
    // Work from both terms was seen, none of term 1 after term 2 began.
    await new Promise((r) => setTimeout(r, 300));
    expect(o.work.some((w) => w.term === 2 && w.node === 's2')).toBe(true);
    expect(o.work.filter((w) => w.admitted !== 'current')).toEqual([]);
    // The killed node's hooks survived its death; it ran no shutdown.
    expect(await hookRecords(svc)).toEqual({
      s1: ['startup:deploy', 'onScan:deploy'],
      s2: ['startup:deploy', 'onScan:takeover'],
    });
  }, 60_000);

  it('SIGSTOP of the active longer than the lease: on SIGCONT it has fenced itself and does not act', async () => {
    const svc = 'proc-pause';
    const o = observe(svc);
    const s1 = await deployPair(o, svc, 'legacy');
    s1.signal('SIGSTOP');
    await o.until('s2', 'active on scan');
    const before = o.work.length;
    s1.signal('SIGCONT');
    // The old active learns it lost and ends a legacy standby (its service stopped).
    await o.until('s1', 'standby');
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    const after = o.work.slice(before);
    // At most a publish it had decided before the pause is still flushed; the guard refuses it.
    const stale = after.filter((w) => w.node === 's1');
    expect(stale.length).toBeLessThanOrEqual(1);
    for (const w of stale) expect(w.admitted).toBe('stale');
    const s1Moves = o.transitions
      .filter((t) => t.node === 's1' && t.term === 1)
      .map((t) => `${t.from}>${t.to}`);
    expect(s1Moves.at(-1)).toMatch(/>standby$/);
    const s1Hooks = o.transitions
      .filter((t) => t.node === 's1')
      .flatMap((t) => t.hooks.map((h) => `${h.hook}:${h.reason}`));
    // Its deadline timer or the new record reaches it first: offScan runs once, for either reason.
    expect(s1Hooks.join(' ')).toMatch(
      /^startup:deploy onScan:deploy offScan:(fenced|superseded) shutdown:superseded$/,
    );
    expect((await hookRecords(svc)).s1).toEqual(s1Hooks);
  }, 60_000);

  it('SIGTERM of the active: hooks run, the backup takes over off scan, a scan command brings it on', async () => {
    const svc = 'proc-term';
    const o = observe(svc);
    const s1 = await deployPair(o, svc, 'warm');
    s1.signal('SIGTERM');
    expect(await s1.exited).toBe(0);
    await o.until('s2', 'active off scan');
    const r = await nc.request(pairSubjects().control(svc, 's2'), encode({ op: 'scan', scan: 'on' }), {
      timeout: 5000,
    });
    expect(readTerm(r.headers)).toMatchObject({ service: svc, term: 2, holder: 's2' });
    expect(decode<{ status: PairStatus }>(r.data).status.state).toBe('active on scan');
    const bad = await nc.request(pairSubjects().control(svc, 's2'), encode({ op: 'explode' }), {
      timeout: 5000,
    });
    expect(decode<{ error: { code: string } }>(bad.data).error.code).toBe('BAD_COMMAND');
  }, 60_000);
});
