import { afterAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

describe('maintenance off during the grace of maintenance on', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('calls the pending maintenance off: clients are told, nobody is disconnected, the node stays ready', async () => {
    const node = await startChatNode(nats.server().url, 'cancel', { prefix: 'cx' });
    nodes.push(node);
    const nc = await nats.connect();
    const pushes: Record<string, unknown>[] = [];
    let counting: () => void = () => {};
    const countdownSeen = new Promise<void>((resolve) => {
      counting = resolve;
    });
    const s = await Session.open(
      nc,
      'chat',
      { user: 'u', room: 'r' },
      {
        prefix: 'cx',
        onPush: (m) => {
          pushes.push(m);
          if (m.phase === 'countdown') counting();
        },
      },
    );
    const on = node.enterMaintenance({ message: 'soon', graceMs: 60_000, tickMs: 100 });
    // The grace is counting down: status shows it pending, with its end.
    await countdownSeen;
    expect(node.status().pendingMaintenance).toMatchObject({ message: 'soon', endsAt: expect.any(String) });
    const off = await node.leaveMaintenance('manual');
    expect(off.state).toBe('ready');
    await expect(on).rejects.toMatchObject({ code: 'MAINTENANCE_CANCELLED' });
    expect(node.state).toBe('ready');
    expect(node.status().pendingMaintenance).toBeUndefined();
    expect((await s.request({ type: 'say', text: 'still here' })).ok).toBe(true);
    expect(pushes.some((m) => m.type === 'maintenance' && m.phase === 'cancelled')).toBe(true);
    expect(pushes.some((m) => m.type === 'closed')).toBe(false);
  });
});
