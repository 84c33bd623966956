import { afterAll, describe, expect, it } from 'vitest';
import { bulkResume, bulkSuspend } from '../../src/actors/bulk-suspend.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('suspend/resume of channels and acceptors under concurrent load (real NATS)', () => {
  const nats = useNats();
  let node: RelupNode;
  afterAll(async () => {
    await node?.stop();
  });

  it('loses, duplicates and reorders nothing; held connects are admitted on resume', async () => {
    node = await startChatNode(nats.server().url, 'load');
    const chat = node.services.get('chat')!;
    const nc = await nats.connect();
    const SESSIONS = 20;
    const PER_SESSION = 24; // 480 messages: the room keeps the last 500
    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) => Session.open(nc, 'chat', { user: `p${i}`, room: 'load' })),
    );
    let cycles = 0;
    let stop = false;
    // Producers: each session sends its messages one after another, all sessions concurrently.
    const producers = sessions.map(async (s, i) => {
      const seqs: number[] = [];
      for (let k = 0; k < PER_SESSION; k++) {
        const r = await s.request({ type: 'say', text: `p${i}:${k}` });
        seqs.push(r.seq as number);
      }
      return seqs;
    });
    // Meanwhile: suspend everything, open a session while suspended, resume; repeat.
    const lateOpens: Promise<Session>[] = [];
    const toggler = (async () => {
      while (!stop) {
        chat.acceptor.suspend();
        const result = await bulkSuspend(chat.channelActors(), 5000);
        expect(result.result).toBe('ok');
        lateOpens.push(Session.open(nc, 'chat', { user: `late${cycles}`, room: 'load' }));
        // The client's flush puts the connect at the server; the node's flush (PING after the
        // MSG on the node's connection) proves the node has read it: it must be held.
        await nc.flush();
        await node.nc.flush();
        expect(chat.acceptor.heldCount).toBe(1);
        bulkResume(chat.channelActors());
        chat.acceptor.resume();
        cycles++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const perSession = await Promise.all(producers);
    stop = true;
    await toggler;
    const late = await Promise.all(lateOpens);
    expect(late).toHaveLength(cycles);
    expect(cycles).toBeGreaterThan(3);
    // Every reply ok, seqs strictly increasing per session.
    for (const seqs of perSession) {
      expect(seqs).toHaveLength(PER_SESSION);
      for (let k = 1; k < seqs.length; k++) expect(seqs[k]).toBeGreaterThan(seqs[k - 1] as number);
    }
    // Together the replies name every seq from 1 to N exactly once.
    expect(perSession.flat().sort((a, b) => a - b)).toEqual(
      Array.from({ length: SESSIONS * PER_SESSION }, (_, i) => i + 1),
    );
    // The room holds each message exactly once, in each session's order, seqs without gaps.
    const history = (await sessions[0]!.request({ type: 'history' })).messages as {
      seq: number;
      text: string;
    }[];
    expect(history).toHaveLength(SESSIONS * PER_SESSION);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
    for (let i = 0; i < SESSIONS; i++) {
      const mine = history
        .filter((m) => m.text.startsWith(`p${i}:`))
        .map((m) => Number(m.text.split(':')[1]));
      expect(mine).toEqual(Array.from({ length: PER_SESSION }, (_, k) => k));
    }
  });
});
