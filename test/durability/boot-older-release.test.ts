import { describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, useNodeProcesses } from '../helpers/node-process.ts';

type Said = { room: string; seq: number; text: string };

/**
 * A release not yet made permanent is running when the node restarts: it boots the permanent
 * (older) release, which must bring the newer snapshots down with the newer release's
 * codeChange, never drop them.
 */
describe('a restart into the permanent release keeps state written by a newer release', () => {
  const nats = useNats();
  const nodes = useNodeProcesses();

  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${sig}: every session resumes and every acknowledged message is in its room's history`, async () => {
      const url = nats.server().url;
      const id = `older-${sig.toLowerCase()}`;
      const first = await nodes.start({ nats: url, node: id, release: '1.0.0' });
      const nc = await nats.connect();
      await command(nc, id, 'make_permanent', { version: '1.0.0' });
      const rooms = [`r1-${sig}`, `r2-${sig}`];
      const clients: { s: Session; room: string }[] = [];
      for (let i = 0; i < 6; i++) {
        const room = rooms[i % 2] as string;
        clients.push({ s: await Session.open(nc, 'chat', { user: `u${i}`, room }), room });
      }
      const said: Said[] = [];
      const sayAll = async (tag: string) => {
        for (const [i, c] of clients.entries()) {
          const text = `${tag}-${i}`;
          const r = await c.s.request({ type: 'say', text });
          said.push({ room: c.room, seq: r.seq as number, text });
        }
      };
      await sayAll('before');
      const up = await command(nc, id, 'upgrade', { to: '1.1.0' }, 60_000);
      expect(up.outcome).toBe('done');
      await sayAll('after');

      await first.signal(sig);
      // No --release: the node boots the permanent 1.0.0.
      const second = await nodes.start({ nats: url, node: id });
      const status = await command(nc, id, 'status');
      expect(status.release).toBe('1.0.0');
      // The journal still tells how the last upgrade ended.
      expect(status.lastUpgrade).toMatchObject({ outcome: 'done', from: '1.0.0', to: '1.1.0' });
      expect(second.output()).not.toMatch(/snapshot dropped/);

      // Every session goes on where it was, and seqs continue without reuse.
      await sayAll('restarted');
      for (const room of rooms) {
        const mine = said.filter((m) => m.room === room);
        const member = clients.find((c) => c.room === room) as { s: Session };
        const history = (await member.s.request({ type: 'history' })).messages as {
          seq: number;
          text: string;
        }[];
        expect(history.map((m) => [m.seq, m.text])).toEqual(mine.map((m) => [m.seq, m.text]));
        expect(mine.map((m) => m.seq)).toEqual(mine.map((_, i) => i + 1));
      }
      await second.signal('SIGTERM');
    }, 90_000);
  }
});
