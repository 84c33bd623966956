import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

/** Opens `n` sessions at once; returns the errors of those refused. */
async function connects(nc: Parameters<typeof Session.open>[0], n: number, prefix: string) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => Session.open(nc, 'chat', { user: `c${i}`, room: 'r' }, { prefix })),
  );
  const sessions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  await Promise.all(sessions.map((s) => s.close()));
  return results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason as { code: string; details?: unknown }] : [],
  );
}

describe('maintenance in a cluster: a connect is refused only when no node serves the service', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('2 nodes, one in maintenance: 200 connects, none refused; both in maintenance: every connect refused with the message and until', async () => {
    const url = nats.server().url;
    for (const id of ['mc1', 'mc2']) nodes.push(await startChatNode(url, id, { prefix: 'mc' }));
    const [one, two] = nodes as [RelupNode, RelupNode];
    await one.enterMaintenance({ message: 'fixing mc1', until: '2026-12-03T06:00:00Z' });
    const nc = await nats.connect();
    expect(await connects(nc, 200, 'mc')).toEqual([]);

    await two.enterMaintenance({ message: 'fixing mc2', until: '2026-12-03T07:00:00Z' });
    const refused = await connects(nc, 40, 'mc');
    expect(refused).toHaveLength(40);
    for (const err of refused) {
      expect(err.code).toBe('MAINTENANCE');
      expect(err.details).toMatchObject({ until: expect.stringMatching(/^2026-12-03T0[67]:00:00Z$/) });
    }

    // One node back: everyone is served again, wherever the connect lands first.
    await one.leaveMaintenance();
    expect(await connects(nc, 100, 'mc')).toEqual([]);
  });
});
