import { Kvm } from '@nats-io/kv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeOptions } from '../../src/node/node-types.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { SnapshotStore } from '../../src/services/snapshot-store.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { channelContext, connect, crash, deriveWithRestart } from './restart-modes-fixture.ts';

describe('restart modes `clear`, `cleanup`, per component, and version changes across a real node restart', () => {
  const nats = useNats();
  const live: RelupNode[] = [];
  let sandbox: ReleaseSandbox;
  beforeAll(async () => {
    sandbox = releaseSandbox();
    await deriveWithRestart(sandbox, '1.0.1', 'clear');
    await deriveWithRestart(sandbox, '1.0.2', 'cleanup');
    await deriveWithRestart(sandbox, '1.0.3', { acceptor: 'cleanup' });
    await deriveWithRestart(sandbox, '1.0.4', undefined);
    // A newer release whose codeChange cannot go down: state it wrote cannot be served by 1.0.0.
    await sandbox.derive('1.1.0', '1.0.6', (src) =>
      src.replace(
        'codeChange({ snapshot, kind, direction, extra }) {',
        "codeChange({ snapshot, kind, direction, extra }) {\n    if (direction === 'down') throw new Error('no way down');",
      ),
    );
  });
  afterEach(async () => {
    await Promise.all(live.splice(0).map((n) => n.stop()));
  });
  afterAll(() => sandbox.remove());

  const start = async (id: string, release: string, extra: Partial<NodeOptions> = {}) => {
    const node = await startChatNode(nats.server().url, id, {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release,
      ...extra,
    });
    live.push(node);
    return node;
  };
  const forget = (node: RelupNode) => live.splice(live.indexOf(node), 1);

  /** Runs `id` on 1.0.0 (mode `restart`): one session that said two things in `room`, persisted. */
  async function persisted(id: string, room: string, end: 'stop' | 'crash' = 'stop') {
    const node = await start(id, '1.0.0');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'ada', room });
    await s.request({ type: 'say', text: 'one' });
    await s.request({ type: 'say', text: 'two' });
    forget(node);
    if (end === 'crash') {
      await node.restartModes.flush();
      await crash(node);
    } else await node.stop();
    const store = await SnapshotStore.open(nc);
    expect((await store.channels(id, 'chat')).map((r) => r.value.session)).toEqual([s.id]);
    expect(await store.getNamed(`chat.room.${room}`)).toBeDefined();
    return { nc, s, store };
  }

  it('clear: the persisted sessions and rooms are deleted; the service starts fresh', async () => {
    const { nc, s, store } = await persisted('cl', 'clr');
    const node = await start('cl', '1.0.1');
    expect(node.restartModes.modes('chat')).toEqual({
      service: 'clear',
      acceptor: 'clear',
      channels: 'clear',
    });
    expect(await store.channels('cl', 'chat')).toEqual([]);
    expect(await store.getNamed('chat.room.clr')).toBeUndefined();
    await expect(s.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    expect(await connect(nc, { session: s.id })).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_SESSION' },
    });
    const fresh = await Session.open(nc, 'chat', { user: 'bob', room: 'clr' });
    expect(await fresh.request({ type: 'history' })).toEqual({ ok: true, messages: [] });
    expect((await fresh.request({ type: 'say', text: 'new' })).seq).toBe(1);
    // Nothing is persisted in this mode.
    await node.restartModes.flush();
    expect(await store.channels('cl', 'chat')).toEqual([]);
  });

  it('cleanup: leftovers of this node and of dead nodes are deleted; the service waits for startService, then starts fresh', async () => {
    // A stale session of another node that is gone.
    const other = await persisted('cu-gone', 'cu-other');
    const { nc, s, store } = await persisted('cu', 'cup', 'crash');
    const actors = await new Kvm(nc).open('relup_actors');
    // The crashed run left its room's ownership entry behind.
    expect((await actors.get('chat.room.cup'))?.operation).toBe('PUT');

    const node = await start('cu', '1.0.2');
    expect(await store.channels('*', 'chat')).toEqual([]);
    expect(await store.getNamed('chat.room.cup')).toBeUndefined();
    expect(await store.getNamed('chat.room.cu-other')).toBeUndefined();
    expect((await actors.get('chat.room.cup'))?.operation).not.toBe('PUT');
    // Not started: no acceptor (no other node serves chat), no restored channel, no named actors.
    expect(node.restartModes.waitingServices()).toEqual(['chat']);
    expect(node.services.get('chat')?.started).toBe(false);
    await expect(Session.open(nc, 'chat', { user: 'bob', room: 'cup' })).rejects.toMatchObject({
      code: 'UNKNOWN_SERVICE',
    });
    await expect(node.named.call('chat.room.cup', { type: 'history' })).rejects.toMatchObject({
      code: 'UNKNOWN_ACTOR',
    });

    expect(await node.startWaiting('chat')).toBe(true);
    expect(await node.startWaiting('chat')).toBe(false);
    expect(node.restartModes.waitingServices()).toEqual([]);
    await expect(s.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    await expect(other.s.request({ type: 'say', text: 'x' })).rejects.toMatchObject({
      code: 'UNKNOWN_SESSION',
    });
    const fresh = await Session.open(nc, 'chat', { user: 'bob', room: 'cup' });
    expect(await fresh.request({ type: 'history' })).toEqual({ ok: true, messages: [] });
    expect((await fresh.request({ type: 'say', text: 'new' })).seq).toBe(1);
    await expect(node.startWaiting('nope')).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE' });
  });

  it('per component: { acceptor: cleanup } restores sessions and rooms but admits no one until startService', async () => {
    const first = await start('pc', '1.0.3');
    expect(first.restartModes.modes('chat')).toEqual({
      service: 'restart',
      acceptor: 'cleanup',
      channels: 'restart',
    });
    // Only at boot does a component wait: this node's boot was its first, so it waits too.
    expect(first.restartModes.waitingServices()).toEqual(['chat']);
    await first.startWaiting('chat');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'pc' });
    await s.request({ type: 'say', text: 'one' });
    forget(first);
    await first.stop();

    const second = await start('pc', '1.0.3');
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    await expect(Session.open(nc, 'chat', { user: 'bob', room: 'pc' })).rejects.toMatchObject({
      code: 'UNKNOWN_SERVICE',
    });
    expect(await second.startWaiting('chat')).toBe(true);
    const late = await Session.open(nc, 'chat', { user: 'bob', room: 'pc' });
    expect((await late.request({ type: 'history' })).messages).toHaveLength(2);
  });

  it('a snapshot of another version is migrated by codeChange (1.0.0 → 1.1.0)', async () => {
    const { s } = await persisted('mg', 'mig');
    const node = await start('mg', '1.1.0');
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    expect(channelContext(node, s.id)).toMatchObject({ user: 'ada', room: 'mig' });
    // The room went through 1.1.0's codeChange up: its messages carry the default topic.
    const history = await s.request({ type: 'history' });
    expect(history.messages).toEqual([
      { seq: 1, user: 'ada', text: 'one', topic: 'general' },
      { seq: 2, user: 'ada', text: 'two', topic: 'general' },
      { seq: 3, user: 'ada', text: 'three', topic: 'general' },
    ]);
  });

  it('a snapshot of another version without codeChange is carried as it is, as a hot swap does (1.0.0 → 1.0.4)', async () => {
    const { nc, s, store } = await persisted('dr', 'drop');
    await start('dr', '1.0.4');
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    expect((await store.channels('dr', 'chat')).map((r) => r.value.session)).toEqual([s.id]);
    const other = await Session.open(nc, 'chat', { user: 'bob', room: 'drop' });
    expect(((await other.request({ type: 'history' })).messages as unknown[]).length).toBe(3);
  });

  it('state an older release cannot migrate is kept untouched and refused with the reason, never dropped', async () => {
    const newer = await start('nm', '1.0.6');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'nomig' });
    await s.request({ type: 'say', text: 'one' });
    await s.request({ type: 'say', text: 'two' });
    forget(newer);
    await newer.stop();
    const store = await SnapshotStore.open(nc);
    const before = await store.getNamed('chat.room.nomig');
    expect(before?.value.snapshot.version).toBe('1.0.6');

    const older = await start('nm', '1.0.0');
    await expect(s.request({ type: 'say', text: 'lost?' })).rejects.toMatchObject({
      code: 'STATE_NOT_MIGRATED',
    });
    expect(await connect(nc, { session: s.id })).toMatchObject({
      ok: false,
      error: { code: 'STATE_NOT_MIGRATED' },
    });
    forget(older);
    await older.stop();
    expect((await store.channels('nm', 'chat')).map((r) => r.value.session)).toEqual([s.id]);
    expect((await store.getNamed('chat.room.nomig'))?.value).toEqual(before?.value);

    // The release that wrote it serves it again, as it was.
    await start('nm', '1.0.6');
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
  });
});
