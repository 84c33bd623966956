import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

// A room whose logic throws on one message fails; what it stored before must survive, as every
// acknowledged say did. Deleting a failed durable actor's record restarted the room empty.
describe('a durable named actor that fails', () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  let node: RelupNode | undefined;
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // 1.0.40: a say of "boom" throws inside the room's logic.
    await sandbox.derive('1.0.0', '1.0.40', (src) =>
      src.replace(
        'const seq = context.seq + 1;',
        "if (event.text === 'boom') throw new Error('the room cannot take that');\n          const seq = context.seq + 1;",
      ),
    );
  });
  afterAll(async () => {
    await node?.stop();
    sandbox.remove();
  });

  it('restarts from its stored state: the says acknowledged before the failure are kept', async () => {
    node = await startChatNode(nats.server().url, 'fail-1', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release: '1.0.40',
    });
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'fragile' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    await expect(s.request({ type: 'say', text: 'boom' })).rejects.toMatchObject({ code: 'ACTOR_FAILED' });
    // The next message claims the room again, from its record: not from nothing.
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two', 'three']);
  });
});
