import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { loadService } from '../../src/release/code-loader.ts';
import { readManifest } from '../../src/release/manifest.ts';
import { Session } from '../../src/services/client.ts';
import { CHAT_RELEASES, startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { crash } from '../node/restart-modes-fixture.ts';

type Line = { seq: number; text: string };

/**
 * A node takes over a dead node's room while its own chat switches code (an upgrade's `load`
 * step, or its undo on a rollback): the room's state must be rebuilt for the logic the actor
 * runs. Seen in `npm run chaos -- --only node-sigkill@before-ponr`: the survivor claimed the
 * dead node's rooms inside its own upgrade's pause, built them with one version's logic over
 * the other version's state, the next say failed the actor, and the failed actor's record was
 * deleted: the room restarted at seq 1, every acknowledged say in it lost.
 */
describe('a named actor claimed while its service switches code', () => {
  const nats = useNats();
  const live: RelupNode[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((n) => n.stop().catch(() => {})));
  });

  it.each([
    ['up (the load step)', false],
    ['back down (the undo of the load step on a rollback)', true],
  ])(
    'keeps every acknowledged say of a dead node’s room when the code switches %s during the claim',
    async (_, down) => {
      const url = nats.server().url;
      // Each case its own nodes and room on the shared server.
      const tag = down ? 'dn' : 'up';
      const room = `sw-${tag}`;
      const actor = `chat.room.${room}`;
      const first = await startChatNode(url, `${tag}1`);
      const nc = await nats.connect();
      const s = await Session.open(nc, 'chat', { user: 'ada', room });
      const acked: Line[] = [];
      for (const text of ['one', 'two', 'three'])
        acked.push({ seq: (await s.request({ type: 'say', text })).seq as number, text });
      expect(acked.map((a) => a.seq)).toEqual([1, 2, 3]);
      // Dies holding the room: its record and journal stay, its lease lapses.
      await crash(first);

      const second = await startChatNode(url, `${tag}2`);
      live.push(second);
      const host = second.services.get('chat');
      if (!host) throw new Error('chat does not run on the second node');
      const dir = join(CHAT_RELEASES, '1.1.0');
      const upgraded = await loadService(dir, await readManifest(dir), 'chat');
      const [from, to] = down ? [upgraded, host.def] : [host.def, upgraded];
      host.load(from);
      // The code switches while the claim reads the dead node's journal (between the claim's
      // look-up of the logic and the rebuild of the state), as an upgrade's `load` step would.
      const journal = second.restartModes.journal;
      const eventsOf = journal.eventsOf.bind(journal);
      let switched = false;
      journal.eventsOf = async (node, key, after) => {
        if (!switched && key === `na.${actor}`) {
          switched = true;
          host.load(to);
        }
        return eventsOf(node, key, after);
      };

      const reply = (await second.named.call(actor, { type: 'say', user: 'bob', text: 'four' })) as {
        seq: number;
      };
      expect(switched).toBe(true);
      expect(host.version).toBe(to.version);
      acked.push({ seq: reply.seq, text: 'four' });
      const history = (
        (await second.named.call(actor, { type: 'history' })) as { messages: Line[] }
      ).messages.map(({ seq, text }) => ({ seq, text }));
      expect(history).toEqual(acked);
      expect(acked.map((a) => a.seq)).toEqual([1, 2, 3, 4]);
    },
    30_000,
  );
});
