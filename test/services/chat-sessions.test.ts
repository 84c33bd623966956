import { afterAll, describe, expect, it } from 'vitest';
import { RelupError } from '../../src/errors.ts';
import { decode, encode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('chat sessions over real NATS', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('sessions across two nodes in one queue group share one room', async () => {
    nodes.push(await startChatNode(nats.server().url, 'n1'), await startChatNode(nats.server().url, 'n2'));
    const nc = await nats.connect();
    const pushes = new Map<string, Record<string, unknown>[]>();
    const sessions: Session[] = [];
    for (let i = 0; i < 8; i++) {
      const user = `u${i}`;
      pushes.set(user, []);
      sessions.push(
        await Session.open(nc, 'chat', { user, room: 'lobby' }, { onPush: (m) => pushes.get(user)?.push(m) }),
      );
    }
    // Both nodes took sessions: the queue group spreads connects.
    const counts = nodes.map((n) => n.services.get('chat')?.sessionCount ?? 0);
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b)).toBe(8);
    // One room owner in the cluster.
    const owners = nodes.filter((n) => n.named.names().includes('chat.room.lobby'));
    expect(owners).toHaveLength(1);

    const seqs: number[] = [];
    for (const [i, s] of sessions.entries()) {
      const r = await s.request({ type: 'say', text: `hello ${i}` });
      expect(r.ok).toBe(true);
      seqs.push(r.seq as number);
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const history = await sessions[0]!.request({ type: 'history', since: 4 });
    expect((history.messages as { seq: number }[]).map((m) => m.seq)).toEqual([5, 6, 7, 8]);
    // Every member joined before the first say, so each got all eight pushes, in order. The room
    // publishes each push before its reply, and one connection keeps order: after a round trip
    // through the room, every push is in.
    await sessions[7]!.request({ type: 'history' });
    for (const [user, got] of pushes)
      expect(
        got.map((m) => m.seq),
        user,
      ).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('any NATS client can speak the wire format', async () => {
    const nc = await nats.connect();
    const r = decode<{ ok: boolean; session: string }>(
      (await nc.request('relup.svc.chat.connect', encode({ user: 'raw', room: 'raw' }))).data,
    );
    expect(r.ok).toBe(true);
    const reply = decode<{ ok: boolean; seq: number }>(
      (await nc.request(`relup.ses.${r.session}`, encode({ type: 'say', text: 'hi' }))).data,
    );
    expect(reply).toEqual({ ok: true, seq: 1 });
  });

  it('bad input gets stable codes and the node keeps serving', async () => {
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'bad', room: 'bad' });
    await expect(s.request({ type: 'dance' })).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
    await expect(s.request({ type: 'say', text: 42 })).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
    const notJson = decode<{ ok: boolean; error: { code: string } }>(
      (await nc.request(`relup.ses.${s.id}`, new TextEncoder().encode('{oops'))).data,
    );
    expect(notJson).toMatchObject({ ok: false, error: { code: 'BAD_MESSAGE' } });
    await expect(Session.open(nc, 'chat', { user: '', room: 'x' })).rejects.toMatchObject({
      code: 'SESSION_REFUSED',
    });
    await expect(Session.open(nc, 'nope', { user: 'a' })).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE' });
    const closed = await Session.open(nc, 'chat', { user: 'c', room: 'bad' });
    await closed.close();
    await expect(closed.request({ type: 'say', text: 'x' })).rejects.toBeInstanceOf(RelupError);
    await expect(closed.request({ type: 'say', text: 'x' })).rejects.toMatchObject({
      code: 'UNKNOWN_SESSION',
    });
    // Still serving.
    expect((await s.request({ type: 'say', text: 'still here' })).ok).toBe(true);
  });
});
