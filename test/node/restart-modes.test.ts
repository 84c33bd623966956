import { afterEach, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { channelKey, SnapshotStore } from '../../src/services/snapshot-store.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { channelContext, connect, crash, Pushes } from './restart-modes-fixture.ts';

// chat 1.0.0 declares no restart mode: every component is in `restart`.
describe('restart mode `restart` across a real node restart', () => {
  const nats = useNats();
  const live: RelupNode[] = [];
  const start = async (id: string) => {
    const node = await startChatNode(nats.server().url, id);
    live.push(node);
    return node;
  };
  afterEach(async () => {
    await Promise.all(live.splice(0).map((n) => n.stop()));
  });

  it('graceful stop: sessions are parked, restored at boot, and go on without reconnecting', async () => {
    const first = await start('rs1');
    const nc = await nats.connect();
    const pushes = new Pushes();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'keep' }, { onPush: pushes.onPush });
    const gone = await Session.open(nc, 'chat', { user: 'bob', room: 'keep' });
    expect((await s.request({ type: 'say', text: 'one' })).seq).toBe(1);
    expect((await gone.request({ type: 'say', text: 'two' })).seq).toBe(2);
    // Closed by its client: deleted, it must not come back.
    await gone.close();

    await first.stop();
    live.splice(live.indexOf(first), 1);
    // The client is told its session is parked, not ended.
    expect(await pushes.next((m) => m.type === 'closed')).toEqual({
      type: 'closed',
      reason: 'service stopping',
      resumable: true,
    });
    const store = await SnapshotStore.open(nc);
    expect((await store.channels('rs1', 'chat')).map((r) => r.value.session)).toEqual([s.id]);

    const second = await start('rs1');
    // The next request on the old session works: the channel was restored before the acceptor started.
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    expect(channelContext(second, s.id)).toEqual({ user: 'ada', room: 'keep', session: s.id });
    // The room kept its history and its members (the restored room pushes to ada).
    const history = await s.request({ type: 'history' });
    expect((history.messages as { seq: number; text: string }[]).map((m) => m.text)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(await pushes.next((m) => m.type === 'message' && m.seq === 3)).toMatchObject({ text: 'three' });
    await expect(gone.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    // A client reconnecting with its session id finds it live.
    expect(await connect(nc, { session: s.id })).toEqual({ ok: true, session: s.id, resumed: true });
    expect(await connect(nc, { session: gone.id })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_SESSION' },
    });
  });

  it('crash after a flush: the same node id restores sessions and rooms as last flushed', async () => {
    const first = await start('rs2');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'cy', room: 'crash' });
    await s.request({ type: 'say', text: 'one' });
    await s.request({ type: 'say', text: 'two' });
    await first.restartModes.flush();
    live.splice(live.indexOf(first), 1);
    await crash(first);

    const second = await start('rs2');
    // The ownership entry the dead run left was released at boot, so the room is claimed and restored.
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    expect(channelContext(second, s.id)).toMatchObject({ user: 'cy', room: 'crash' });
    const history = await s.request({ type: 'history', since: 1 });
    expect((history.messages as { seq: number }[]).map((m) => m.seq)).toEqual([2, 3]);
  });

  it('a hot upgrade re-tags idle sessions and rooms with the new version at the next flush', async () => {
    const node = await start('rup');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'di', room: 'upg' });
    await s.request({ type: 'say', text: 'one' });
    await node.restartModes.flush();
    const store = await SnapshotStore.open(nc);
    const versions = async () => [
      (await store.findChannel('chat', s.id))?.value.snapshot.version,
      (await store.getNamed('chat.room.upg'))?.value.snapshot.version,
    ];
    expect(await versions()).toEqual(['1.0.0', '1.0.0']);
    // The swap takes no message: without the version in the dirty check, a restart would find 1.0.0 records.
    expect((await node.upgrade({ to: '1.1.0' })).outcome).toBe('done');
    await node.restartModes.flush();
    expect(await versions()).toEqual(['1.1.0', '1.1.0']);
  });

  it('a reconnect with the session id restores it on another node when its node is gone', async () => {
    const a = await start('ra');
    const b = await start('rb');
    const nc = await nats.connect();
    // Open until a session lands on a (the queue group spreads connects).
    let s: Session | undefined;
    for (let i = 0; !s; i++) {
      const opened = await Session.open(nc, 'chat', { user: `u${i}`, room: 'move' });
      if (a.services.get('chat')?.hasSession(opened.id)) s = opened;
      else await opened.close();
    }
    await s.request({ type: 'say', text: 'before' });
    await a.stop();
    live.splice(live.indexOf(a), 1);

    // Only b serves chat now: it restores the session from a's record and takes the record over.
    expect(await connect(nc, { session: s.id })).toEqual({ ok: true, session: s.id, resumed: true });
    expect(b.services.get('chat')?.hasSession(s.id)).toBe(true);
    const store = await SnapshotStore.open(nc);
    expect((await store.findChannel('chat', s.id))?.key).toBe(channelKey('rb', 'chat', s.id));
    const after = await s.request({ type: 'say', text: 'after' });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['before', 'after']);
    expect(after.seq).toBe(2);
    // A session nobody persisted is refused.
    expect(await connect(nc, { session: 'nosuchsession' })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_SESSION' },
    });
  });
});
