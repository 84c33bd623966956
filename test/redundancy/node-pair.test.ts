import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { Session } from '../../src/services/client.ts';
import { command } from '../helpers/node-spawn.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { resumeSession, usePairRig } from './node-pair-fixture.ts';
import { driveRow } from './pair-model.ts';
import { SHUTDOWN_TABLE } from './shutdown-table.ts';

// The document's table (9 actions × legacy and warm) against two real `relup node` processes
// of a release whose chat service is redundant, on a nats-server of their own per row: a hard
// failure is SIGKILL, a graceful shutdown SIGTERM, a forced failover and an undeploy the pair's
// operator subject.
describe('redundancy - the document table against two relup node processes', { timeout: 120_000 }, () => {
  const rig = usePairRig();

  for (const row of SHUTDOWN_TABLE) {
    it(`redundancy on relup node - ${row.mode} - ${row.action}`, async () => {
      const { nats, nc } = await rig().server();
      const pair = rig().pair(row, nats, nc);
      // Quiet period: two leases with nothing more.
      await driveRow(pair, row, () => pair.hooksSince(), 2 * TEST_TIMING.leaseMs);
      expect(await pair.states()).toEqual(row.end);
      expect(pair.hooksSince()).toEqual(row.hooks);
    });
  }

  it('a session on the active keeps every acknowledged say through a forced failover (relupctl pair) and a SIGKILL of the active', async () => {
    const { pair, nats, nc } = await rig().deployedPair();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'pair' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
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
    expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id, resumed: true });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    await pair.act('server 2 hard failure');
    await pair.until({ s1: 'active on scan', s2: 'down' });
    expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  /** `relupctl upgrade --all --mode rolling`, which must succeed; its JSON report. */
  async function rollingUpgrade(url: string, to: string): Promise<unknown> {
    const up = await relupctl(['upgrade', '--to', to, '--all', '--mode', 'rolling', '--json', '--nats', url]);
    expect(up.code, up.stderr).toBe(0);
    return JSON.parse(up.stdout);
  }

  for (const [mode, to] of [
    ['warm', '1.1.31'],
    ['legacy', '1.1.30'],
  ] as const)
    it(`a hot upgrade of a ${mode} pair (rolling): the standby first, then a switch-over, then the former active; no acknowledged say lost`, async () => {
      const { pair, nats, nc } = await rig().deployedPair({ mode });
      pair.hooksSince();
      const s = await Session.open(nc, 'chat', { user: 'ada', room: `switch-${mode}` });
      expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
      const up = await rollingUpgrade(nats.url, to);
      // s2 (the standby) first; s1 hands the service to it, then takes the new code as the standby.
      expect(up).toMatchObject({
        ok: true,
        nodes: [
          { node: 's2', outcome: 'done' },
          { node: 's1', outcome: 'done' },
        ],
      });
      for (const n of ['s1', 's2'] as const) expect((await command(nc, n, 'status')).release).toBe(to);
      expect(await pair.states()).toEqual({ s1: 'standby', s2: 'active on scan' });
      // One forced failover, with exactly the hooks of the table's row for it.
      const failover = SHUTDOWN_TABLE.find((r) => r.mode === mode && r.action === 'forced failover')!;
      expect(pair.hooksSince()).toEqual(failover.hooks);
      // The session was parked on s1 with the old code's state; s2 restores it into the new code.
      const resumed = await nc
        .request('relup.svc.chat.connect', encode({ session: s.id }), { timeout: 10_000 })
        .then((m) => decode<Record<string, unknown>>(m.data));
      expect(resumed).toMatchObject({ ok: true, session: s.id });
      expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
      const history = await s.request({ type: 'history' });
      // The new code runs on s2: its room logs a topic with every message, the old one migrated.
      expect(history.messages).toMatchObject([
        { text: 'one', topic: 'general' },
        { text: 'two', topic: 'general' },
      ]);
    });

  it('a hot upgrade of a warm pair in place (the relup says pairs: in_place), node by node, keeps the roles and the session on the active', async () => {
    const { pair, nats, nc } = await rig().deployedPair();
    pair.hooksSince();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'up' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    // The standby's closed acceptor does not fail its checks: both nodes upgrade in place.
    const up = await rollingUpgrade(nats.url, '1.1.32');
    expect(up).toMatchObject({
      ok: true,
      nodes: [{ outcome: 'done' }, { outcome: 'done' }],
    });
    for (const n of ['s1', 's2'] as const) expect((await command(nc, n, 'status')).release).toBe('1.1.32');
    expect(await pair.states()).toEqual({ s1: 'active on scan', s2: 'standby' });
    // No transition, so no hook ran; the session went on without a reconnect.
    expect(pair.hooksSince()).toEqual({ s1: [], s2: [] });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two']);
  });
});
