import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { discover } from '../../src/control/discovery.ts';
import { decode, encode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, nextMessage, type Reply, send, watchEvents } from './control-helpers.ts';

const enc = new TextEncoder();

describe('control server: operator commands over NATS', () => {
  const nats = useNats();
  let node: RelupNode;
  let server: ControlServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    node = await startChatNode(nats.server().url, 'c1');
    server = await startControlServer(node, {});
    nc = await nats.connect();
  });
  afterAll(async () => {
    await server?.stop();
    await node?.stop();
  });

  /** The node still answers and runs the release it ran before. */
  async function stillServing(release: string): Promise<void> {
    const r = await command(nc, 'c1', 'status');
    expect(r.ok).toBe(true);
    expect(r.result.release).toBe(release);
    expect(node.release.version).toBe(release);
  }

  function roomVersion(room: string): string | undefined {
    return node.named.ownedBy('chat').find((a) => a.id === `chat.room.${room}`)?.version;
  }

  it('status replies with the node status and echoes the id', async () => {
    const r = await send(nc, 'c1', { id: 'abc', cmd: 'status', args: {} });
    expect(r).toMatchObject({ id: 'abc', ok: true, result: { node: 'c1', release: '1.0.0' } });
    expect(r.result.services).toEqual([expect.objectContaining({ name: 'chat', version: '1.0.0' })]);
    // args may be left out: they default to {}.
    expect(await send(nc, 'c1', { id: 'x', cmd: 'status' })).toMatchObject({ ok: true });
  });

  it('releases lists the versions on disk, the running one, the permanent one and the history', async () => {
    const r = await command(nc, 'c1', 'releases');
    expect(r.ok).toBe(true);
    expect(r.result).toMatchObject({
      node: 'c1',
      running: '1.0.0',
      available: ['1.0.0', '1.1.0'],
      permanent: null,
    });
    expect(Array.isArray(r.result.history)).toBe(true);
  });

  it('check runs the checks of 1.1.0 and changes nothing', async () => {
    const session = await Session.open(nc, 'chat', { user: 'ada', room: 'ctl' });
    await session.request({ type: 'say', text: 'before check' });
    expect(roomVersion('ctl')).toBe('1.0.0');
    const r = await command(nc, 'c1', 'check', { to: '1.1.0' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({ outcome: 'done', from: '1.0.0', to: '1.1.0' });
    expect(r.result.steps.every((s: { phase: string }) => s.phase === 'before')).toBe(true);
    await stillServing('1.0.0');
    expect(node.status().services[0]?.version).toBe('1.0.0');
    expect(roomVersion('ctl')).toBe('1.0.0');
    expect(node.lastUpgrade).toBeUndefined();
    expect(await session.request({ type: 'history', since: 0 })).toMatchObject({ ok: true });
    await session.close();
  });

  it('upgrade to 1.1.0 replies with the report; every step is an event, in order', async () => {
    const events = await watchEvents(nc, 'c1');
    const r = await send(nc, 'c1', { id: 'up-1', cmd: 'upgrade', args: { to: '1.1.0', id: 'u1' } });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({ id: 'u1', outcome: 'done', from: '1.0.0', to: '1.1.0' });
    expect(node.release.version).toBe('1.1.0');
    expect(roomVersion('ctl')).toBe('1.1.0');
    // command_finished is published before the reply: it is in the log or on its way.
    await events.waitFor((e) => e.type === 'command_finished' && e.command === 'up-1');
    events.stop();
    const mine = events.all.filter((e) => e.command === 'up-1');
    for (const e of mine) {
      expect(e.node).toBe('c1');
      expect(new Date(e.time).toISOString()).toBe(e.time);
    }
    const types = mine.map((e) => e.type);
    expect(types[0]).toBe('command_received');
    expect(types.at(-1)).toBe('command_finished');
    expect(mine.at(-1)).toMatchObject({ ok: true, outcome: 'done', cmd: 'upgrade' });
    const upgradeEvents = mine.slice(1, -1);
    expect(upgradeEvents.every((e) => e.upgrade === 'u1')).toBe(true);
    expect(upgradeEvents[0]).toMatchObject({ type: 'state', state: 'checking' });
    expect(upgradeEvents.at(-1)).toMatchObject({ type: 'state', state: 'done' });
    // Each step of the report started and completed, in the report's order.
    const started = upgradeEvents.filter((e) => e.type === 'step_started').map((e) => e.step);
    const completed = upgradeEvents.filter((e) => e.type === 'step_completed').map((e) => e.step);
    const steps = r.result.steps.map((s: { id: string }) => s.id);
    expect(started).toEqual(steps);
    expect(completed).toEqual(steps);
    for (const e of upgradeEvents.filter((x) => x.type.startsWith('step_')))
      expect(typeof e.step).toBe('string');
    const states = upgradeEvents.filter((e) => e.type === 'state').map((e) => e.state);
    expect(states).toEqual(['checking', 'committed', 'suspending', 'upgrading', 'resuming', 'done']);
    // The first state event lists the whole plan, in order, with the point of no return.
    expect(upgradeEvents[0]).toMatchObject({ from: '1.0.0', to: '1.1.0' });
    expect(upgradeEvents[0]?.plan.map((p: { id: string }) => p.id)).toEqual(steps);
    const ponr = upgradeEvents[0]?.plan.find((p: { op: string }) => p.op === 'point_of_no_return');
    expect(ponr).toMatchObject({ phase: 'after' });
  });

  it('upgrades returns the journal, newest first, bounded by limit', async () => {
    const r = await command(nc, 'c1', 'upgrades', { limit: 5 });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result.node).toBe('c1');
    expect(r.result.upgrades[0]).toMatchObject({ id: 'u1', outcome: 'done', from: '1.0.0', to: '1.1.0' });
    expect(r.result.upgrades[0].steps.length).toBeGreaterThan(5);
    expect(await command(nc, 'c1', 'upgrades', { limit: 0 })).toMatchObject({
      ok: false,
      error: { code: 'BAD_COMMAND' },
    });
  });

  it('status counts the requests each service answered, with a latency histogram, and shows the supervision tree', async () => {
    const before = (await command(nc, 'c1', 'status')).result.services[0].stats;
    const session = await Session.open(nc, 'chat', { user: 'bob', room: 'stats' });
    for (let i = 0; i < 5; i++) await session.request({ type: 'say', text: `n${i}` });
    await session.close();
    const status = (await command(nc, 'c1', 'status')).result;
    const after = status.services[0].stats;
    expect(after.requests - before.requests).toBe(5);
    expect(after.buckets).toHaveLength(after.boundsMs.length + 1);
    const sum = (b: number[]) => b.reduce((a, x) => a + x, 0);
    expect(sum(after.buckets) - sum(before.buckets)).toBe(5);
    expect(status.supervision.children).toEqual([
      { id: 'service:chat', type: 'worker', restart: 'permanent', running: true, restarts: 0 },
    ]);
  });

  it('upgrade refuses a lower version: that is a downgrade', async () => {
    const r = await command(nc, 'c1', 'upgrade', { to: '1.0.0' });
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_COMMAND' } });
    expect(r.error?.message).toMatch(/downgrade/);
    await stillServing('1.1.0');
  });

  it('downgrade to 1.0.0 runs the down path', async () => {
    const r = await command(nc, 'c1', 'downgrade', { to: '1.0.0' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({ outcome: 'done', direction: 'down', from: '1.1.0', to: '1.0.0' });
    expect(roomVersion('ctl')).toBe('1.0.0');
    await stillServing('1.0.0');
  });

  it('make_permanent moves the permanent release to the running one, with compare-and-set', async () => {
    const r = await command(nc, 'c1', 'make_permanent', { version: '1.0.0', expectedRevision: 0 });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({ version: '1.0.0', previous: null });
    expect(await node.store.permanent()).toEqual({ version: '1.0.0', revision: r.result.revision });
    const history = await node.store.history();
    expect(history.at(-1)).toMatchObject({ node: 'c1', action: 'made_permanent', to: '1.0.0' });
    const releases = await command(nc, 'c1', 'releases');
    expect(releases.result.permanent).toEqual({ version: '1.0.0', revision: r.result.revision });

    // A stale revision is a conflict; a version this node does not run is refused.
    expect(
      await command(nc, 'c1', 'make_permanent', { version: '1.0.0', expectedRevision: 0 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT' },
    });
    expect(await command(nc, 'c1', 'make_permanent', { version: '1.1.0' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_COMMAND' },
    });
    expect((await node.store.permanent())?.version).toBe('1.0.0');
  });

  describe('bad input is refused with a stable code; the node keeps serving and nothing changes', () => {
    const cases: { name: string; body: unknown; code: string; id?: string | null; path?: string }[] = [
      { name: 'not JSON', body: enc.encode('status please'), code: 'BAD_MESSAGE', id: null },
      { name: 'not an object', body: [1, 2], code: 'BAD_COMMAND', id: null },
      { name: 'missing id', body: { cmd: 'status', args: {} }, code: 'BAD_COMMAND', path: 'id' },
      { name: 'missing cmd', body: { id: 'b1', args: {} }, code: 'BAD_COMMAND', id: 'b1', path: 'cmd' },
      {
        name: 'args not an object',
        body: { id: 'b2', cmd: 'status', args: 'x' },
        code: 'BAD_COMMAND',
        path: 'args',
      },
      {
        name: 'unknown command',
        body: { id: 'b3', cmd: 'reboot', args: {} },
        code: 'UNKNOWN_COMMAND',
        id: 'b3',
      },
      {
        name: 'missing argument',
        body: { id: 'b4', cmd: 'upgrade', args: {} },
        code: 'BAD_COMMAND',
        path: 'args.to',
      },
      {
        name: 'wrong-typed argument',
        body: { id: 'b5', cmd: 'upgrade', args: { to: 110 } },
        code: 'BAD_COMMAND',
        path: 'args.to',
      },
      {
        name: 'not a version',
        body: { id: 'b6', cmd: 'check', args: { to: 'latest' } },
        code: 'BAD_COMMAND',
        path: 'args.to',
      },
      {
        name: 'wrong-typed nested argument',
        body: { id: 'b7', cmd: 'upgrade', args: { to: '1.1.0', barrier: { id: 'a.b' } } },
        code: 'BAD_COMMAND',
        path: 'args.barrier.id',
      },
      {
        name: 'unknown argument',
        body: { id: 'b8', cmd: 'status', args: { verbose: true } },
        code: 'BAD_COMMAND',
        path: 'args',
      },
      {
        name: 'unknown version',
        body: { id: 'b9', cmd: 'upgrade', args: { to: '9.9.9' } },
        code: 'UNKNOWN_RELEASE',
      },
      {
        name: 'downgrade to a higher version',
        body: { id: 'b10', cmd: 'downgrade', args: { to: '1.1.0' } },
        code: 'BAD_COMMAND',
      },
      {
        name: 'check of the running release',
        body: { id: 'b11', cmd: 'check', args: { to: '1.0.0' } },
        code: 'BAD_COMMAND',
      },
    ];
    for (const c of cases)
      it(c.name, async () => {
        const r: Reply = await send(nc, 'c1', c.body);
        expect(r.ok).toBe(false);
        expect(r.error?.code).toBe(c.code);
        expect(r.error?.message).toEqual(expect.any(String));
        if (c.id !== undefined) expect(r.id).toBe(c.id);
        if (c.path) expect(r.error?.details.problems.map((p: { path: string }) => p.path)).toContain(c.path);
        await stillServing('1.0.0');
        expect(node.status().upgrading).toBeUndefined();
      });
  });

  it('an upgrade while one runs is BUSY; the first, held at its barrier, then aborts cleanly', async () => {
    const ready = await nextMessage(nc, 'relup.barrier.busy.ready');
    const first = send(nc, 'c1', {
      id: 'slow',
      cmd: 'upgrade',
      args: { to: '1.1.0', id: 'slow1', barrier: { id: 'busy', timeoutMs: 20_000 } },
    });
    expect(await ready.message).toEqual({ node: 'c1', ready: true });

    const second = await command(nc, 'c1', 'upgrade', { to: '1.1.0' });
    expect(second).toMatchObject({ ok: false, error: { code: 'BUSY', details: { running: 'slow1' } } });
    const status = await command(nc, 'c1', 'status');
    expect(status.result).toMatchObject({ release: '1.0.0', upgrading: 'slow1' });

    nc.publish('relup.barrier.busy.abort', encode({ reason: 'test says no' }));
    const r = await first;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result.outcome).toBe('aborted');
    expect(JSON.stringify(r.result.error)).toContain('BARRIER_ABORTED');
    expect(JSON.stringify(r.result.error)).toContain('test says no');
    await stillServing('1.0.0');
    expect(node.status().upgrading).toBeUndefined();
    expect(roomVersion('ctl')).toBe('1.0.0');
  });

  it('discovery returns every node of a two-node setup', async () => {
    const other = await startChatNode(nats.server().url, 'c2');
    const otherServer = await startControlServer(other);
    try {
      const nodes = await discover(nc);
      expect(nodes.map((n) => n.node)).toEqual(['c1', 'c2']);
      expect(nodes[0]).toMatchObject({
        node: 'c1',
        release: '1.0.0',
        control: 'relup.ctl.c1',
        events: 'relup.evt.c1',
      });
      expect(nodes[1]).toMatchObject({ node: 'c2', control: 'relup.ctl.c2' });
      // The other node takes commands too.
      expect(await command(nc, 'c2', 'status')).toMatchObject({ ok: true, result: { node: 'c2' } });
    } finally {
      await otherServer.stop();
      await other.stop();
    }
    expect((await discover(nc)).map((n) => n.node)).toEqual(['c1']);
  });

  it('discovery of an empty prefix returns [] without waiting for maxWaitMs', async () => {
    const t0 = performance.now();
    expect(await discover(nc, { prefix: 'nobody', maxWaitMs: 10_000 })).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('answers the $SRV micro-services discovery (PING, INFO, STATS)', async () => {
    const ping = decode<Record<string, unknown>>((await nc.request('$SRV.PING.relup.c1')).data);
    expect(ping).toMatchObject({ type: 'io.nats.micro.v1.ping_response', name: 'relup', id: 'c1' });
    expect(ping.version).toMatch(/^\d+\.\d+\.\d+/);
    const anyPing = decode<Record<string, unknown>>((await nc.request('$SRV.PING')).data);
    expect(anyPing).toMatchObject({ name: 'relup', id: 'c1' });
    const info = decode<Record<string, unknown>>((await nc.request('$SRV.INFO.relup')).data);
    expect(info).toMatchObject({
      type: 'io.nats.micro.v1.info_response',
      id: 'c1',
      endpoints: [{ name: 'control', subject: 'relup.ctl.c1' }],
    });
    const stats = decode<{ type: string; endpoints: { num_requests: number; num_errors: number }[] }>(
      (await nc.request('$SRV.STATS.relup.c1')).data,
    );
    expect(stats.type).toBe('io.nats.micro.v1.stats_response');
    expect(stats.endpoints[0]?.num_requests).toBeGreaterThan(10);
    expect(stats.endpoints[0]?.num_errors).toBeGreaterThan(5);
  });

  it('stop unsubscribes: the control subject has no responders any more', async () => {
    const other = await startChatNode(nats.server().url, 'c3');
    const otherServer = await startControlServer(other);
    expect(await command(nc, 'c3', 'status')).toMatchObject({ ok: true });
    await otherServer.stop();
    await expect(command(nc, 'c3', 'status')).rejects.toThrow(/no responders/i);
    await other.stop();
  });
});
