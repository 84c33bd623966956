import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barrierSubjects } from '../../src/control/barrier-subjects.ts';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { encode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { nextMessage, send, watchEvents } from './control-helpers.ts';

describe('the barrier of a cluster-wide upgrade, on the node side', () => {
  const nats = useNats();
  let node: RelupNode;
  let server: ControlServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    node = await startChatNode(nats.server().url, 'b1');
    server = await startControlServer(node);
    nc = await nats.connect();
  });
  afterAll(async () => {
    await server?.stop();
    await node?.stop();
  });

  it('announces ready at the point of no return and passes on go', async () => {
    const s = barrierSubjects('relup', 'g1');
    const events = await watchEvents(nc, 'b1');
    const ready = await nextMessage(nc, s.ready);
    const reply = send(nc, 'b1', { id: 'g', cmd: 'upgrade', args: { to: '1.1.0', barrier: { id: 'g1' } } });
    expect(await ready.message).toEqual({ node: 'b1', ready: true });
    // Held at the barrier: nothing after the point of no return ran yet.
    expect(node.release.version).toBe('1.0.0');
    expect(events.all.some((e) => e.type === 'state' && e.state === 'committed')).toBe(false);
    expect(await events.waitFor((e) => e.type === 'barrier_waiting')).toMatchObject({
      barrier: 'g1',
      command: 'g',
    });
    nc.publish(s.go, encode({ decision: 'go' }));
    const r = await reply;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result.outcome).toBe('done');
    expect(node.release.version).toBe('1.1.0');
    expect(await events.waitFor((e) => e.type === 'barrier_passed')).toMatchObject({ barrier: 'g1' });
    events.stop();
    const back = await send(nc, 'b1', { id: 'back', cmd: 'downgrade', args: { to: '1.0.0' } });
    expect(back.result?.outcome).toBe('done');
  });

  it('aborts the upgrade when the barrier does not open in time (BARRIER_TIMEOUT)', async () => {
    const ready = await nextMessage(nc, barrierSubjects('relup', 't1').ready);
    const r = await send(nc, 'b1', {
      id: 't',
      cmd: 'upgrade',
      args: { to: '1.1.0', barrier: { id: 't1', timeoutMs: 300 } },
    });
    await ready.message;
    expect(r.ok).toBe(true);
    expect(r.result.outcome).toBe('aborted');
    expect(JSON.stringify(r.result.error)).toContain('BARRIER_TIMEOUT');
    expect(node.release.version).toBe('1.0.0');
  });

  it('stopping the control server aborts an upgrade waiting at its barrier, and still replies', async () => {
    const ready = await nextMessage(nc, barrierSubjects('relup', 'st').ready);
    const reply = send(nc, 'b1', { id: 'st', cmd: 'upgrade', args: { to: '1.1.0', barrier: { id: 'st' } } });
    await ready.message;
    await server.stop();
    const r = await reply;
    expect(r.result?.outcome).toBe('aborted');
    expect(JSON.stringify(r.result.error)).toContain('BARRIER_ABORTED');
    expect(node.release.version).toBe('1.0.0');
    expect(node.status().upgrading).toBeUndefined();
    server = await startControlServer(node);
    expect(await send(nc, 'b1', { id: 'again', cmd: 'status' })).toMatchObject({ ok: true });
  });
});
