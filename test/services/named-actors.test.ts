import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('named actors: one live owner per name in the cluster', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  });

  it('concurrent first calls from two nodes elect exactly one owner', async () => {
    const [a, b] = [
      await startChatNode(nats.server().url, 'ca'),
      await startChatNode(nats.server().url, 'cb'),
    ];
    nodes.push(a, b);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).named.call('chat.room.race', { type: 'say', user: `u${i}`, text: `t${i}` }),
      ),
    );
    const seqs = results.map((r) => (r as { seq: number }).seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const owners = [a, b].filter((n) => n.named.names().includes('chat.room.race'));
    expect(owners).toHaveLength(1);
  });

  it('a gracefully stopped owner releases its names and another node takes them at once', async () => {
    const a = await startChatNode(nats.server().url, 'ga');
    const b = await startChatNode(nats.server().url, 'gb');
    nodes.push(b);
    await a.named.call('chat.room.handover', { type: 'say', user: 'x', text: 'one' });
    expect(a.named.names()).toContain('chat.room.handover');
    await a.stop();
    const r = (await b.named.call('chat.room.handover', { type: 'say', user: 'x', text: 'two' })) as {
      seq: number;
    };
    expect(b.named.names()).toContain('chat.room.handover');
    // The room moved to b with its state: a persisted it on release (restart mode `restart`).
    expect(r.seq).toBe(2);
  });

  it('when the owner node dies, its names are taken over after its heartbeat lapses', async () => {
    const a = await startChatNode(nats.server().url, 'da');
    const b = await startChatNode(nats.server().url, 'db');
    nodes.push(b);
    await a.named.call('chat.room.orphan', { type: 'say', user: 'x', text: 'one' });
    // Die without releasing anything: the connection goes first, so the heartbeat record and
    // the KV ownership entry both stay behind; only the heartbeat's age tells the node is gone.
    await a.nc.close();
    await a.presence.stop();
    const started = Date.now();
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'y', room: 'orphan' }, { timeoutMs: 10_000 });
    const r = await s.request({ type: 'say', text: 'after' });
    expect(r.ok).toBe(true);
    // Earlier tests' nodes serve chat too: exactly one of the live nodes owns the room now.
    const owners = nodes.filter((n) => n.named.names().includes('chat.room.orphan'));
    expect(owners.map((n) => n.id)).toHaveLength(1);
    expect(owners[0]?.id).not.toBe('da');
    // Not before the lease (3 beats of 200 ms) ran out.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
