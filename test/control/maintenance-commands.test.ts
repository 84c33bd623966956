import { afterAll, describe, expect, it } from 'vitest';
import { startControlServer } from '../../src/control/control-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, watchEvents } from './control-helpers.ts';

describe('maintenance commands over NATS, from a plain client', () => {
  const nats = useNats();
  let node: RelupNode;
  afterAll(async () => {
    await node?.stop();
  });

  it('notify, disconnect_clients, maintenance on with grace and off; bad arguments refused', async () => {
    node = await startChatNode(nats.server().url, 'mc', { superAdminTokens: ['t0ken'] });
    const control = await startControlServer(node);
    const nc = await nats.connect();
    const pushes: Record<string, unknown>[] = [];
    const a = await Session.open(nc, 'chat', { user: 'a', room: 'm' }, { onPush: (m) => pushes.push(m) });
    const b = await Session.open(nc, 'chat', { user: 'b', room: 'm' });
    const events = await watchEvents(nc, 'mc');

    expect(await command(nc, 'mc', 'notify', { message: 'hello all' })).toMatchObject({
      ok: true,
      result: { sessions: 2 },
    });
    const kept = await command(nc, 'mc', 'disconnect_clients', { except: [a.id] });
    expect(kept).toMatchObject({ ok: true, result: { disconnected: 1 } });
    await expect(b.request({ type: 'history' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });

    expect(await command(nc, 'mc', 'maintenance', { on: true, grace: 'soon' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_COMMAND' },
    });
    expect(await command(nc, 'mc', 'maintenance', { on: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_COMMAND' },
    });
    const on = await command(nc, 'mc', 'maintenance', { on: true, message: 'short break', grace: '200ms' });
    expect(on).toMatchObject({ ok: true, result: { state: 'maintenance', disconnected: 1 } });
    await events.waitFor((e) => e.type === 'lifecycle' && e.state === 'maintenance');
    expect(pushes.map((p) => p.type)).toEqual(expect.arrayContaining(['notice', 'maintenance', 'closed']));
    await expect(Session.open(nc, 'chat', { user: 'c', room: 'm' })).rejects.toMatchObject({
      code: 'MAINTENANCE',
    });
    expect(await command(nc, 'mc', 'status')).toMatchObject({ ok: true, result: { state: 'maintenance' } });
    expect(await command(nc, 'mc', 'retry')).toMatchObject({
      ok: false,
      error: { code: 'NOTHING_TO_RETRY' },
    });
    expect(await command(nc, 'mc', 'disable_service', { service: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_SERVICE' },
    });

    expect(await command(nc, 'mc', 'maintenance', { on: false })).toMatchObject({
      ok: true,
      result: { state: 'ready' },
    });
    const c = await Session.open(nc, 'chat', { user: 'c', room: 'm' });
    expect((await c.request({ type: 'say', text: 'back' })).ok).toBe(true);
    events.stop();
    await control.stop();
  });
});
