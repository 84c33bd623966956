import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { Session } from '../../src/services/client.ts';
import { command, type NodeProcess, spawnNode } from '../helpers/node-spawn.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { driveRow } from './pair-model.ts';
import { type HookRun, SHUTDOWN_TABLE, type TableAction, type TableRow } from './shutdown-table.ts';

type Server = 's1' | 's2';

/** Hooks of chat that append `hook:reason` to RELUP_HOOK_LOG before they return: the line survives a SIGKILL. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
const pairHook = (ctx) => {
  if (process.env.RELUP_HOOK_LOG) appendFileSync(process.env.RELUP_HOOK_LOG, ctx.hook + ':' + ctx.reason + '\\n');
};
`;

// The document's table (9 actions × legacy and warm) against two real `relup node` processes
// of a release whose chat service is redundant, on a nats-server of their own per row: a hard
// failure is SIGKILL, a graceful shutdown SIGTERM, a forced failover and an undeploy the pair's
// operator subject.
describe('redundancy - the document table against two relup node processes', { timeout: 120_000 }, () => {
  let sandbox: ReleaseSandbox;
  const procs: NodeProcess[] = [];
  const servers: LocalNats[] = [];
  const conns: NatsConnection[] = [];
  beforeAll(async () => {
    sandbox = releaseSandbox();
    for (const [version, mode] of [
      ['1.0.30', 'legacy'],
      ['1.0.31', 'warm'],
    ] as const) {
      await sandbox.derive('1.0.0', version, (src) =>
        src
          .replace('import { assign', `${HOOKS}\nimport { assign`)
          .replace(
            'channel,\n  actors: { room },',
            'channel,\n  actors: { room },\n  redundancy: { startup: pairHook, shutdown: pairHook, onScan: pairHook, offScan: pairHook },',
          ),
      );
      await sandbox.editManifest(version, (m) => {
        m.services[0]!.redundant = { primary: 's1', backup: 's2', mode, timing: TEST_TIMING };
      });
    }
    // 1.1.31: chat 1.1.0 (rooms get a topic) as a warm pair, for a hot upgrade of the pair.
    await sandbox.derive('1.1.0', '1.1.31', (src) =>
      src
        .replace('import { assign', `${HOOKS}\nimport { assign`)
        .replace(
          'channel,\n  actors: { room },',
          'channel,\n  actors: { room },\n  redundancy: { startup: pairHook, shutdown: pairHook, onScan: pairHook, offScan: pairHook },',
        ),
    );
    await sandbox.editManifest('1.1.31', (m) => {
      m.services[0]!.redundant = { primary: 's1', backup: 's2', mode: 'warm', timing: TEST_TIMING };
    });
    sandbox.relup(
      '1.0.31-1.1.31',
      'release: chat\nfrom: 1.0.31\nto: 1.1.31\nup:\n  - update: chat\n    extra: { defaultTopic: general }\ndown: auto\n',
    );
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.signal('SIGKILL')));
    await Promise.all(conns.splice(0).map((c) => c.close().catch(() => {})));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(() => sandbox.remove());

  /** One row's pair: two node ids on a nats-server of its own, each with its hook log. */
  class NodePair {
    readonly running: Partial<Record<Server, NodeProcess>> = {};
    private seen: Record<Server, number> = { s1: 0, s2: 0 };

    constructor(
      readonly row: TableRow,
      readonly nats: LocalNats,
      readonly nc: NatsConnection,
      private readonly logs: Record<Server, string>,
    ) {}

    async boot(n: Server): Promise<void> {
      this.running[n] = await spawnNode({
        nats: this.nats.url,
        node: n,
        release: this.row.mode === 'legacy' ? '1.0.30' : '1.0.31',
        env: {
          RELUP_RELEASES: sandbox.releasesDir,
          RELUP_RELUPS: sandbox.relupsDir,
          RELUP_HOOK_LOG: this.logs[n],
        },
        onSpawn: (p) => procs.push(p),
      });
    }

    async pair(n: Server, op: string): Promise<Record<string, unknown>> {
      const msg = await this.nc.request(`relup.pair.chat.${n}`, encode({ op }), { timeout: 10_000 });
      return decode<Record<string, unknown>>(msg.data);
    }

    async state(n: Server): Promise<string> {
      if (!this.running[n]?.alive()) return 'down';
      const status = await command(this.nc, n, 'status').catch(() => undefined);
      const pair = (status?.redundancy as { state: string }[] | undefined)?.[0];
      return pair?.state ?? 'down';
    }

    async states(): Promise<{ s1: string; s2: string }> {
      return { s1: await this.state('s1'), s2: await this.state('s2') };
    }

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

    async until(want: { s1: string; s2: string }, timeoutMs = 30_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = await this.states();
        if (s.s1 === want.s1 && s.s2 === want.s2) return;
        if (Date.now() > end) throw new Error(`states ${JSON.stringify(s)}, wanted ${JSON.stringify(want)}`);
        // Polls status: a row may have to wait out a lease, and nothing signals "settled".
        await new Promise((r) => setTimeout(r, 50));
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

  let rowNo = 0;
  for (const row of SHUTDOWN_TABLE) {
    it(`redundancy on relup node - ${row.mode} - ${row.action}`, async () => {
      const nats = await startNats();
      servers.push(nats);
      const nc = await connectNats({ servers: nats.url });
      conns.push(nc);
      const id = ++rowNo;
      const logs = {
        s1: join(sandbox.releasesDir, `row${id}-s1.hooks`),
        s2: join(sandbox.releasesDir, `row${id}-s2.hooks`),
      };
      const pair = new NodePair(row, nats, nc, logs);
      // Quiet period: two leases with nothing more.
      await driveRow(pair, row, () => pair.hooksSince(), 2 * TEST_TIMING.leaseMs);
      expect(await pair.states()).toEqual(row.end);
      expect(pair.hooksSince()).toEqual(row.hooks);
    });
  }

  /** A warm pair deployed on a nats-server of its own: s1 active on scan, s2 standby. */
  async function deployedWarmPair(
    name: string,
  ): Promise<{ pair: NodePair; nats: LocalNats; nc: NatsConnection }> {
    const nats = await startNats();
    servers.push(nats);
    const nc = await connectNats({ servers: nats.url });
    conns.push(nc);
    const row = SHUTDOWN_TABLE.find((r) => r.mode === 'warm' && r.action === 'deploy')!;
    const logs = {
      s1: join(sandbox.releasesDir, `${name}-s1.hooks`),
      s2: join(sandbox.releasesDir, `${name}-s2.hooks`),
    };
    const pair = new NodePair(row, nats, nc, logs);
    await pair.act('deploy');
    await pair.until({ s1: 'active on scan', s2: 'standby' });
    return { pair, nats, nc };
  }

  it('a session on the active keeps every acknowledged say through a forced failover (relupctl pair) and a SIGKILL of the active', async () => {
    const { pair, nats, nc } = await deployedWarmPair('ses');
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'pair' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    const resume = async () => {
      // The old active parked the session; the new active admits it once its intake is open.
      const end = Date.now() + 20_000;
      for (;;) {
        const r = await nc
          .request('relup.svc.chat.connect', encode({ session: s.id }), { timeout: 2000 })
          .then((m) => decode<Record<string, unknown>>(m.data))
          .catch((err: Error) => ({ ok: false, error: { message: err.message } }));
        if (r.ok) return r;
        if (Date.now() > end) throw new Error(`cannot resume: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    // The operator's forced failover, through relupctl.
    const failover = await relupctl([
      'pair',
      'failover',
      '--service',
      'chat',
      '--node',
      's1',
      '--nats',
      nats.url,
    ]);
    expect(failover.code, failover.stderr).toBe(0);
    await pair.until({ s1: 'standby', s2: 'active on scan' });
    const shown = await relupctl([
      'pair',
      'status',
      '--service',
      'chat',
      '--node',
      's2',
      '--nats',
      nats.url,
      '--json',
    ]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ role: 'backup', state: 'active on scan', holder: 's2' });
    expect(await resume()).toMatchObject({ ok: true, session: s.id, resumed: true });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    await pair.act('server 2 hard failure');
    await pair.until({ s1: 'active on scan', s2: 'down' });
    expect(await resume()).toMatchObject({ ok: true, session: s.id });
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  it('a hot upgrade of a warm pair, node by node, keeps the roles and the session on the active', async () => {
    const { pair, nats, nc } = await deployedWarmPair('up');
    pair.hooksSince();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'up' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    // The standby's closed acceptor does not fail its checks: both nodes upgrade in place.
    const up = await relupctl([
      'upgrade',
      '--to',
      '1.1.31',
      '--all',
      '--mode',
      'rolling',
      '--json',
      '--nats',
      nats.url,
    ]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({
      ok: true,
      nodes: [{ outcome: 'done' }, { outcome: 'done' }],
    });
    for (const n of ['s1', 's2'] as const) expect((await command(nc, n, 'status')).release).toBe('1.1.31');
    expect(await pair.states()).toEqual({ s1: 'active on scan', s2: 'standby' });
    // No transition, so no hook ran; the session went on without a reconnect.
    expect(pair.hooksSince()).toEqual({ s1: [], s2: [] });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two']);
  });
});
