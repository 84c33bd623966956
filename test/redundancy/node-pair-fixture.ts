// Two real `relup node` processes serving the chat example as a redundant pair (s1 primary, s2
// backup), each writing the pair hooks it ran to a log file of its own before the hook returns,
// so the evidence survives a SIGKILL. Shared by the table test and the fault tests.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { command, type NodeProcess, spawnNode } from '../helpers/node-spawn.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { type HookRun, SHUTDOWN_TABLE, type TableAction, type TableRow } from './shutdown-table.ts';

/** The two node ids of the pair. */
export type Server = 's1' | 's2';

/** Hooks of chat that append `hook:reason` to RELUP_HOOK_LOG before they return: the line survives a SIGKILL. */
const HOOKS = `
import { appendFileSync, existsSync } from 'node:fs';
const pairHook = async (ctx) => {
  if (process.env.RELUP_HOOK_LOG) appendFileSync(process.env.RELUP_HOOK_LOG, ctx.hook + ':' + ctx.reason + '\\n');
  // A test holds a hook where it wants an operator command to arrive: while its gate file exists.
  while (process.env.RELUP_HOOK_GATE && existsSync(process.env.RELUP_HOOK_GATE)) await new Promise((r) => setTimeout(r, 20));
};
`;

const withHooks = (src: string) =>
  src
    .replace('import { assign', `${HOOKS}\nimport { assign`)
    .replace(
      'channel,\n  actors: { room },',
      'channel,\n  actors: { room },\n  redundancy: { startup: pairHook, shutdown: pairHook, onScan: pairHook, offScan: pairHook },',
    );

/** A lease longer than a nats-server restart on a loaded machine, for outages meant to change no role. */
export const LONG_LEASE = { beatMs: 200, renewDeadlineMs: 4000, leaseMs: 5000 };

/**
 * The releases of the pair tests: 1.0.30 legacy and 1.0.31 warm (test lease timing), 1.0.32
 * warm with {@link LONG_LEASE}, 1.1.30 legacy, 1.1.31 and 1.1.32 warm (chat 1.1.0, rooms get a
 * topic) with the relups 1.0.31 → 1.1.31 and 1.0.30 → 1.1.30 (the pair switches over) and
 * 1.0.31 → 1.1.32 (in place); and every process, server and connection a test starts, stopped
 * by {@link PairRig.cleanUp}.
 */
export class PairRig {
  readonly procs: NodeProcess[] = [];
  readonly servers: LocalNats[] = [];
  readonly conns: NatsConnection[] = [];
  private pairs = 0;

  private constructor(readonly sandbox: ReleaseSandbox) {}

  /** Builds the sandbox with the pair releases. */
  static async create(): Promise<PairRig> {
    const sandbox = releaseSandbox();
    for (const [version, mode, timing] of [
      ['1.0.30', 'legacy', TEST_TIMING],
      ['1.0.31', 'warm', TEST_TIMING],
      ['1.0.32', 'warm', LONG_LEASE],
    ] as const) {
      await sandbox.derive('1.0.0', version, withHooks);
      await sandbox.editManifest(version, (m) => {
        m.services[0]!.redundant = { primary: 's1', backup: 's2', mode, timing };
      });
    }
    for (const [from, version, mode, pairs] of [
      ['1.0.31', '1.1.31', 'warm', 'switch_over'],
      ['1.0.31', '1.1.32', 'warm', 'in_place'],
      ['1.0.30', '1.1.30', 'legacy', 'switch_over'],
    ] as const) {
      await sandbox.derive('1.1.0', version, withHooks);
      await sandbox.editManifest(version, (m) => {
        m.services[0]!.redundant = { primary: 's1', backup: 's2', mode, timing: TEST_TIMING };
      });
      sandbox.relup(
        `${from}-${version}`,
        `release: chat\nfrom: ${from}\nto: ${version}\nup:\n  - update: chat\n    extra: { defaultTopic: general }\ndown: auto\noptions: { pairs: ${pairs} }\n`,
      );
    }
    return new PairRig(sandbox);
  }

  /** Kills every node (SIGKILL by pid), closes the connections and stops the servers. */
  async cleanUp(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => p.signal('SIGKILL')));
    await Promise.all(this.conns.splice(0).map((c) => c.close().catch(() => {})));
    await Promise.all(this.servers.splice(0).map((s) => s.stop()));
  }

  /** A nats-server of its own for one test, and a connection to it. */
  async server(): Promise<{ nats: LocalNats; nc: NatsConnection }> {
    const nats = await startNats();
    this.servers.push(nats);
    const nc = await connectNats({ servers: nats.url });
    this.conns.push(nc);
    return { nats, nc };
  }

  /** A pair for a table row (its mode picks the release) on `nats`, each node with a hook log of its own. */
  pair(row: TableRow, nats: LocalNats, nc: NatsConnection, opts: PairOptions = {}): NodePair {
    const id = ++this.pairs;
    const logs = {
      s1: join(this.sandbox.releasesDir, `pair${id}-s1.hooks`),
      s2: join(this.sandbox.releasesDir, `pair${id}-s2.hooks`),
    };
    return new NodePair(this, row, nats, nc, logs, opts);
  }

  /**
   * A pair (warm unless `mode` says) deployed on a nats-server of its own: s1 active on scan,
   * s2 standby. s1 boots
   * first (on a loaded machine a slow primary may otherwise lose the first election, which the
   * tests built on this pair are not about; the table's deploy row boots both at once).
   */
  async deployedPair(
    opts: PairOptions & { mode?: 'warm' | 'legacy' } = {},
  ): Promise<{ pair: NodePair; nats: LocalNats; nc: NatsConnection }> {
    const { nats, nc } = await this.server();
    const row = SHUTDOWN_TABLE.find((r) => r.mode === (opts.mode ?? 'warm') && r.action === 'deploy')!;
    const pair = this.pair(row, nats, nc, opts);
    await pair.boot('s1');
    await pair.until({ s1: 'active on scan' });
    await pair.boot('s2');
    await pair.until({ s1: 'active on scan', s2: 'standby' });
    return { pair, nats, nc };
  }
}

/**
 * Resumes a session through chat's acceptor, retrying for up to 20 s while no node admits it yet
 * (the old active parked it, or died; the new active admits it once its intake is open).
 */
export async function resumeSession(nc: NatsConnection, session: string): Promise<Record<string, unknown>> {
  const end = Date.now() + 20_000;
  for (;;) {
    const r = await nc
      .request('relup.svc.chat.connect', encode({ session }), { timeout: 2000 })
      .then((m) => decode<Record<string, unknown>>(m.data))
      .catch((err: Error) => ({ ok: false, error: { message: err.message } }));
    if (r.ok) return r;
    if (Date.now() > end) throw new Error(`cannot resume: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** How a pair differs from the table's: another release, or a node reaching NATS another way (a proxy). */
export interface PairOptions {
  release?: string;
  urls?: Partial<Record<Server, string>>;
  /** Per node, a file whose existence holds each of its pair hooks (after its log line is written). */
  hookGates?: Partial<Record<Server, string>>;
}

/** One pair: two node ids, each with its hook log. */
export class NodePair {
  readonly running: Partial<Record<Server, NodeProcess>> = {};
  private seen: Record<Server, number> = { s1: 0, s2: 0 };

  constructor(
    private readonly rig: PairRig,
    readonly row: TableRow,
    readonly nats: LocalNats,
    readonly nc: NatsConnection,
    private readonly logs: Record<Server, string>,
    private readonly opts: PairOptions,
  ) {}

  /** Starts node `n` and resolves once it takes operator commands. */
  async boot(n: Server): Promise<void> {
    this.running[n] = await spawnNode({
      nats: this.opts.urls?.[n] ?? this.nats.url,
      node: n,
      release: this.opts.release ?? (this.row.mode === 'legacy' ? '1.0.30' : '1.0.31'),
      env: {
        RELUP_RELEASES: this.rig.sandbox.releasesDir,
        RELUP_RELUPS: this.rig.sandbox.relupsDir,
        RELUP_HOOK_LOG: this.logs[n],
        ...(this.opts.hookGates?.[n] && { RELUP_HOOK_GATE: this.opts.hookGates[n] }),
      },
      onSpawn: (p) => this.rig.procs.push(p),
    });
  }

  /** A request on the pair's operator subject of node `n`. */
  async pair(n: Server, op: string): Promise<Record<string, unknown>> {
    const msg = await this.nc.request(`relup.pair.chat.${n}`, encode({ op }), { timeout: 10_000 });
    return decode<Record<string, unknown>>(msg.data);
  }

  /** The pair state node `n` reports in its status; `down` when it does not run or does not answer. */
  async state(n: Server, timeout = 30_000): Promise<string> {
    if (!this.running[n]?.alive()) return 'down';
    const status = await command(this.nc, n, 'status', {}, timeout).catch(() => undefined);
    const pair = (status?.redundancy as { state: string }[] | undefined)?.[0];
    return pair?.state ?? 'down';
  }

  /** Both states. */
  async states(): Promise<{ s1: string; s2: string }> {
    return { s1: await this.state('s1'), s2: await this.state('s2') };
  }

  /** Performs one action of the document's table. */
  async act(a: TableAction): Promise<void> {
    switch (a) {
      case 'deploy':
        await Promise.all([this.boot('s1'), this.boot('s2')]);
        return;
      case 'forced failover': {
        const st = await this.states();
        const active = (['s1', 's2'] as Server[]).find((n) => st[n].startsWith('active'));
        expect(await this.pair(active!, 'failover')).toMatchObject({ ok: true });
        return;
      }
      case 'server 1 hard failure':
      case 'server 2 hard failure': {
        const n = a.startsWith('server 1') ? 's1' : 's2';
        await this.running[n]?.signal('SIGKILL');
        return;
      }
      case 'graceful shutdown of server 1':
      case 'graceful shutdown of server 2': {
        const n = a.includes('server 1') ? 's1' : 's2';
        expect(await this.running[n]?.signal('SIGTERM')).toBe(0);
        return;
      }
      case 'start server 1 only':
        await this.boot('s1');
        return;
      case 'start server 2':
        await this.boot('s2');
        return;
      case 'undeploy':
        await Promise.all([this.pair('s1', 'undeploy'), this.pair('s2', 'undeploy')]);
        return;
    }
  }

  /** Waits until one node (or both) reports the wanted state. */
  async until(want: Partial<Record<Server, string>>, timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s: Partial<Record<Server, string>> = {};
      for (const n of Object.keys(want) as Server[]) s[n] = await this.state(n, 2000);
      if (Object.entries(want).every(([n, v]) => s[n as Server] === v)) return;
      if (Date.now() > end) throw new Error(`states ${JSON.stringify(s)}, wanted ${JSON.stringify(want)}`);
      // Polls status: a row may have to wait out a lease, and nothing signals "settled".
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Starts something on node `n` and holds it inside the pair hook `run` (the node's gate file,
   * see {@link PairOptions.hookGates}) while `meanwhile` runs, then lets it go; resolves with
   * what `start` resolved with. Hook lines seen meanwhile are consumed, as by {@link hooksSince}.
   */
  async holdingHook<T>(
    n: Server,
    run: HookRun,
    start: () => Promise<T>,
    meanwhile: () => Promise<void>,
  ): Promise<T> {
    const gate = this.opts.hookGates?.[n];
    if (!gate) throw new Error(`node ${n} was deployed without a hook gate`);
    this.hooksSince();
    writeFileSync(gate, '');
    try {
      const started = start();
      started.catch(() => {});
      const seen: HookRun[] = [];
      await expect
        .poll(
          () => {
            seen.push(...this.hooksSince()[n]);
            return seen;
          },
          { timeout: 30_000 },
        )
        .toContain(run);
      await meanwhile();
      rmSync(gate);
      return await started;
    } finally {
      rmSync(gate, { force: true });
    }
  }

  /** The hook lines each node wrote since the last call. */
  hooksSince(): Record<Server, HookRun[]> {
    const out = { s1: [] as HookRun[], s2: [] as HookRun[] };
    for (const n of ['s1', 's2'] as Server[]) {
      let lines: string[] = [];
      try {
        lines = readFileSync(this.logs[n], 'utf8').split('\n').filter(Boolean);
      } catch {}
      out[n] = lines.slice(this.seen[n]) as HookRun[];
      this.seen[n] = lines.length;
    }
    return out;
  }
}

/**
 * The PairRig of one test file's tests: built before them, cleaned up after each (every node
 * killed by pid, servers stopped), its sandbox removed after the last.
 */
export function usePairRig(): () => PairRig {
  let rig: PairRig | undefined;
  beforeAll(async () => {
    rig = await PairRig.create();
  });
  afterEach(() => rig?.cleanUp());
  afterAll(() => rig?.sandbox.remove());
  return () => {
    if (!rig) throw new Error('the pair rig is built in beforeAll');
    return rig;
  };
}
