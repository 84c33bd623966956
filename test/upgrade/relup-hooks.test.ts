import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

// The seed's import hooks as relup hooks: notify, grace, notify, disconnect, maintenance on … off.
const WITH_HOOKS = `release: chat
from: 1.0.0
to: 1.1.0
hooks:
  before:
    - notify_clients: "An upgrade will take place. You will be disconnected in a moment."
    - grace: { duration: 300ms, message: "upgrade soon" }
    - notify_clients: "You will be disconnected NOW."
    - disconnect_clients: upgrade
    - maintenance: { on: on, message: "upgrading chat", until: "2026-11-25T06:00:00Z" }
    - sleep: 500ms   # the maintenance window stays open a moment: a client tries to connect in it
  after:
    - maintenance: off
up:
  - update: chat
    extra: { defaultTopic: general }
`;

describe('relup hooks around an upgrade (real NATS)', () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  let node: RelupNode;
  beforeAll(() => {
    sandbox = releaseSandbox();
    sandbox.relup('1.0.0-1.1.0', WITH_HOOKS);
  });
  afterAll(async () => {
    await node?.stop();
    sandbox.remove();
  });

  it('notifies, counts down, disconnects, holds maintenance during the upgrade, then admits everyone', async () => {
    node = await startChatNode(nats.server().url, 'hooks', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
    });
    const nc = await nats.connect();
    const pushes: Record<string, unknown>[] = [];
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'h' }, { onPush: (m) => pushes.push(m) });
    await s.request({ type: 'say', text: 'before' });
    let refusedDuring: unknown;
    const report = await node.upgrade({
      to: '1.1.0',
      onEvent: (e) => {
        // While maintenance holds, a new client is refused with the reason.
        if (e.type === 'step_completed' && e.step?.startsWith('maintenance') && node.isMaintenance())
          refusedDuring = Session.open(nc, 'chat', { user: 'late', room: 'h' }).catch((err: unknown) => err);
      },
    });
    expect(report.outcome, JSON.stringify(report.error)).toBe('done');
    expect(await refusedDuring).toMatchObject({
      code: 'MAINTENANCE',
      details: { until: '2026-11-25T06:00:00Z' },
    });
    const kinds = pushes
      .filter((m) => m.type !== 'message')
      .map((m) => (m.type === 'maintenance' ? `maintenance:${m.phase}` : String(m.type)));
    expect(kinds[0]).toBe('notice');
    expect(kinds).toContain('maintenance:countdown');
    expect(kinds.filter((k) => k === 'notice')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('closed');
    expect(node.state).toBe('ready');
    expect(node.release.version).toBe('1.1.0');
    const again = await Session.open(nc, 'chat', { user: 'u', room: 'h' });
    expect(await again.request({ type: 'topic', text: 'new code' })).toMatchObject({
      ok: true,
      topic: 'new code',
    });
  });
});
