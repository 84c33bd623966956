import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/nats/codec.ts';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, useNodeProcesses } from '../helpers/node-process.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

type Ack = { room: string; seq: number; text: string };

/** Clients that say numbered texts in a loop and record what was acknowledged. */
function chatter(clients: { s: Session; room: string }[]) {
  const acks: Ack[] = [];
  let running = true;
  const loops = clients.map(async (c, i) => {
    for (let n = 0; running; n++) {
      const text = `c${i}-${n}`;
      try {
        const r = await c.s.request({ type: 'say', text });
        acks.push({ room: c.room, seq: r.seq as number, text });
      } catch {
        return; // the node is gone: what was not acknowledged is not promised
      }
    }
  });
  return {
    acks,
    count: () => acks.length,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * A reply `ok` means the state it reflects is stored: SIGKILL at any moment (here inside an
 * upgrade's before-hook, where a write-behind flush used to wait) loses no acknowledged message.
 */
describe('SIGKILL loses no acknowledged message', () => {
  const nats = useNats();
  const nodes = useNodeProcesses();
  let sandbox: ReleaseSandbox;
  beforeAll(() => {
    sandbox = releaseSandbox();
    sandbox.relup(
      '1.0.0-1.1.0',
      `release: chat
from: 1.0.0
to: 1.1.0
hooks:
  before:
    - sleep: 5s
up:
  - update: chat
    extra: { defaultTopic: general }
down: auto
options: { modifications: [standard] }
`,
    );
  });
  afterAll(() => sandbox.remove());

  it('inside a 5 s before-hook of an upgrade: every acknowledged say is in its room once, under its seq', async () => {
    const url = nats.server().url;
    const env = { RELUP_RELEASES: sandbox.releasesDir, RELUP_RELUPS: sandbox.relupsDir };
    const first = await nodes.start({ nats: url, node: 'kill1', release: '1.0.0', env });
    const nc = await nats.connect();
    await command(nc, 'kill1', 'make_permanent', { version: '1.0.0' });
    const rooms = ['k1', 'k2'];
    const clients = [];
    for (let i = 0; i < 8; i++) {
      const room = rooms[i % 2] as string;
      clients.push({ s: await Session.open(nc, 'chat', { user: `u${i}`, room }), room });
    }
    const talk = chatter(clients);
    // The hook is running once its step event says so.
    const hookRunning = new Promise<void>((resolve) => {
      const sub = nc.subscribe('relup.evt.kill1', {
        callback: (_err, msg) => {
          const e = decode<{ type: string; step?: string }>(msg.data);
          if (e.type === 'step_started' && e.step?.includes('sleep')) {
            sub.unsubscribe();
            resolve();
          }
        },
      });
    });
    void command(nc, 'kill1', 'upgrade', { to: '1.1.0' }, 60_000).catch(() => {});
    await hookRunning;
    const hookStarted = Date.now();
    const atHook = talk.count();
    // Well inside the hook, with acknowledged says since it began, the node dies.
    while (talk.count() < atHook + 200) await new Promise((r) => setImmediate(r));
    expect(Date.now() - hookStarted).toBeLessThan(4500);
    await first.signal('SIGKILL');
    await talk.stop();
    expect(talk.acks.length).toBeGreaterThanOrEqual(atHook + 200);

    await nodes.start({ nats: url, node: 'kill1', env });
    for (const room of rooms) {
      const member = clients.find((c) => c.room === room) as { s: Session };
      const history = (await member.s.request({ type: 'history' })).messages as {
        seq: number;
        text: string;
      }[];
      const acked = talk.acks.filter((a) => a.room === room).sort((a, b) => a.seq - b.seq);
      const bySeq = new Map(history.map((m) => [m.seq, m.text]));
      const lost = acked.filter((a) => bySeq.get(a.seq) !== a.text);
      expect(lost).toEqual([]);
      // Seqs strictly increase without gaps, and no text appears twice.
      expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
      expect(new Set(history.map((m) => m.text)).size).toBe(history.length);
    }
  }, 90_000);
});
