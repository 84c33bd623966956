import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

function roomContext(node: RelupNode, room: string): Record<string, unknown> {
  const actor = node.named.ownedBy('chat').find((a) => a.id === `chat.room.${room}`);
  if (!actor) throw new Error(`room ${room} not owned here`);
  return actor.context as Record<string, unknown>;
}

describe('hot upgrade of examples/chat 1.0.0 → 1.1.0 and back, while clients keep sending', () => {
  const nats = useNats();
  let node: RelupNode;
  afterAll(async () => {
    await node?.stop();
  });

  it('delivers every message exactly once and in order, drops no session, migrates the room both ways', async () => {
    node = await startChatNode(nats.server().url, 'hot');
    const nc = await nats.connect();
    const SESSIONS = 12;
    const closed: unknown[] = [];
    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        Session.open(
          nc,
          'chat',
          { user: `m${i}`, room: 'hot' },
          { onPush: (m) => m.type === 'closed' && closed.push(m) },
        ),
      ),
    );
    let running = true;
    const producers = sessions.map(async (s, i) => {
      const seqs: number[] = [];
      let k = 0;
      // Keep sending until both upgrades are over, then a few more under the final code.
      while (running || k < 5) {
        const r = await s.request({ type: 'say', text: `m${i}:${k++}` });
        expect(r.ok).toBe(true);
        seqs.push(r.seq as number);
      }
      return seqs;
    });
    // Let traffic flow first: wait until every producer has had a reply.
    await Promise.all(sessions.map((s) => s.request({ type: 'history', since: 0 })));
    expect(roomContext(node, 'hot')).toHaveProperty('seq');

    const up = await node.upgrade({ to: '1.1.0' });
    expect(up.outcome, JSON.stringify(up.error)).toBe('done');
    expect(node.release.version).toBe('1.1.0');
    const migrated = roomContext(node, 'hot');
    expect(migrated).toHaveProperty('lastSeq');
    expect(migrated).toHaveProperty('topic', 'general');
    expect((migrated.log as { topic: string }[]).every((m) => m.topic === 'general')).toBe(true);
    expect(up.pauseMs).toBeGreaterThan(0);

    // New behaviour is live for existing sessions.
    expect(await sessions[0]!.request({ type: 'topic', text: 'relup' })).toMatchObject({
      ok: true,
      topic: 'relup',
    });

    const down = await node.upgrade({ to: '1.0.0' });
    expect(down.outcome, JSON.stringify(down.error)).toBe('done');
    expect(node.release.version).toBe('1.0.0');
    const back = roomContext(node, 'hot');
    expect(back).toHaveProperty('seq');
    expect(back).not.toHaveProperty('topic');
    await expect(sessions[0]!.request({ type: 'topic', text: 'x' })).rejects.toMatchObject({
      code: 'BAD_MESSAGE',
    });

    running = false;
    const perSession = await Promise.all(producers);
    // Exactly once: the seqs of all replies are 1..N without gap or duplicate; in order per session.
    const all = perSession.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    for (const seqs of perSession)
      for (let k = 1; k < seqs.length; k++) expect(seqs[k]!).toBeGreaterThan(seqs[k - 1]!);
    // No session dropped.
    expect(closed).toEqual([]);
    expect(node.services.get('chat')?.sessionCount).toBe(SESSIONS);
    // The room's seq is the number of messages said.
    expect(roomContext(node, 'hot').seq).toBe(all.length);
  });
});
