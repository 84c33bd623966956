import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { sealRelease } from '../../src/release/manifest.ts';
import { Session } from '../../src/services/client.ts';
import { EVENT_STREAM, EventJournal } from '../../src/services/event-journal.ts';
import { SnapshotStore } from '../../src/services/snapshot-store.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { crash } from '../node/restart-modes-fixture.ts';

describe('the durability contract of a service', () => {
  const nats = useNats();
  const live: RelupNode[] = [];
  let sandbox: ReleaseSandbox;
  beforeAll(async () => {
    sandbox = releaseSandbox();
    await sandbox.derive('1.0.0', '1.0.7');
    const file = join(sandbox.releasesDir, '1.0.7', 'release.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    for (const s of manifest.services) s.durability = 'write-behind';
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    await sealRelease(join(sandbox.releasesDir, '1.0.7'));
  });
  afterEach(async () => {
    await Promise.all(live.splice(0).map((n) => n.stop()));
  });
  afterAll(() => sandbox.remove());
  const start = async (id: string, release = '1.0.0') => {
    const node = await startChatNode(nats.server().url, id, {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release,
    });
    live.push(node);
    return node;
  };

  it('durable (the default): an acknowledged say is in the journal when its reply arrives, and survives a crash', async () => {
    const node = await start('dc1');
    expect(node.status().services[0]?.state).toEqual({ durability: 'durable', lossWindowMs: 0 });
    const nc = await nats.connect();
    const journal = await EventJournal.open(nc, 'dc1-reader');
    const store = await SnapshotStore.open(nc);
    /** The room's says as stored: those its snapshot holds, then those journaled after it. */
    const storedSays = async () => {
      const rec = (await store.getNamed('chat.room.dur'))?.value;
      const inSnapshot = (rec?.snapshot.snapshot as { context: { messages: { text: string }[] } } | undefined)
        ?.context.messages;
      const after = rec ? await journal.eventsOf(rec.node, 'na.chat.room.dur', rec.journalSeq ?? 0) : [];
      return [
        ...(inSnapshot ?? []).map((m) => m.text),
        ...after
          .filter((e) => e.event.type === 'say')
          .map((e) => (e.event as unknown as { text: string }).text),
      ];
    };
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'dur' });
    const said: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const { seq } = await s.request({ type: 'say', text });
      said.push(text);
      // What the reply acknowledged is stored the moment it arrives.
      expect(await storedSays()).toEqual(said);
      expect(seq).toBe(said.length);
    }
    // A read changes nothing, so it journals nothing.
    const before = (await journal.read('dc1', 0)).get('na.chat.room.dur')?.length ?? 0;
    await s.request({ type: 'history' });
    expect((await journal.read('dc1', 0)).get('na.chat.room.dur')?.length ?? 0).toBe(before);

    live.splice(live.indexOf(node), 1);
    await crash(node);
    await start('dc1');
    const history = (await s.request({ type: 'history' })).messages as { text: string }[];
    expect(history.map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });

  it('a say whose event cannot be stored is refused and changes nothing', async () => {
    await start('dc2');
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'bo', room: 'nostore' });
    expect((await s.request({ type: 'say', text: 'kept' })).seq).toBe(1);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENT_STREAM);
    await expect(s.request({ type: 'say', text: 'not stored' })).rejects.toMatchObject({
      code: 'SNAPSHOT_STORE_FAILED',
    });
    const history = (await s.request({ type: 'history' })).messages as { text: string }[];
    expect(history.map((m) => m.text)).toEqual(['kept']);
    await EventJournal.open(nc, 'dc2-reader');
    expect((await s.request({ type: 'say', text: 'again' })).seq).toBe(2);
  });

  it('write-behind is an explicit choice, and status shows its loss window', async () => {
    const node = await start('dc3', '1.0.7');
    expect(node.status().services[0]?.state).toEqual({ durability: 'write-behind', lossWindowMs: 500 });
    const nc = await nats.connect();
    const journal = await EventJournal.open(nc, 'dc3-reader');
    const s = await Session.open(nc, 'chat', { user: 'cy', room: 'wb' });
    await s.request({ type: 'say', text: 'one' });
    await s.request({ type: 'say', text: 'two' });
    expect((await journal.read('dc3', 0)).size).toBe(0);
  });
});
