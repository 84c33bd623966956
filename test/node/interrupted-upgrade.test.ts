import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { openJournal } from '../../src/relup/journal.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('a node that died mid-upgrade', () => {
  const nats = useNats();
  let node: RelupNode | undefined;
  afterAll(async () => {
    await node?.stop();
  });

  it('boots its release, closes the interrupted upgrade as failed and reports it', async () => {
    // What a previous run of node "phoenix" left behind: an upgrade past the point of no return.
    const journal = await openJournal(await nats.connect(), 'phoenix');
    await journal.begin({
      id: 'u-dead',
      release: 'chat',
      from: '1.0.0',
      to: '1.1.0',
      direction: 'up',
      state: 'upgrading',
      passedPonr: true,
      steps: [
        { id: 'code_change:chat', op: 'code_change', phase: 'after', result: 'running', durationMs: 0 },
      ],
      startedAt: new Date().toISOString(),
    });
    expect(await journal.active()).toMatchObject({ id: 'u-dead', passedPonr: true });

    node = await startChatNode(nats.server().url, 'phoenix');
    expect(node.release.version).toBe('1.0.0');
    expect(node.status().lastUpgrade).toMatchObject({ id: 'u-dead', outcome: 'failed' });
    expect(node.lastUpgrade?.error?.message).toContain('code_change:chat');
    expect(await journal.active()).toBeUndefined();
    expect(await journal.get('u-dead')).toMatchObject({ outcome: 'failed' });
  });
});
