import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { openReleaseStore } from '../../src/release/release-store.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('which release a node boots', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('boots the newest release on disk when the cluster has no permanent one, else the permanent one', async () => {
    const first = await startChatNode(nats.server().url, 'boot1', { release: undefined });
    nodes.push(first);
    expect(first.release.version).toBe('1.1.0');
    const store = await openReleaseStore(await nats.connect());
    await store.makePermanent('1.0.0', 0);
    const second = await startChatNode(nats.server().url, 'boot2', { release: undefined });
    nodes.push(second);
    expect(second.release.version).toBe('1.0.0');
    expect(await store.current('boot2')).toBe('1.0.0');
  });

  it('refuses an unknown release with a clear code', async () => {
    await expect(startChatNode(nats.server().url, 'boot3', { release: '9.9.9' })).rejects.toMatchObject({
      code: 'UNKNOWN_RELEASE',
    });
  });
});
