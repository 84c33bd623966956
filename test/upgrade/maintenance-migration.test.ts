import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

// Maintenance stops chat (not required in maintenance) before code_change runs: its rooms are
// only in the store then, and must still be migrated with the relup's `extra`.
const RELUP = `release: chat
from: 1.0.0
to: 1.1.0
hooks:
  before:
    - maintenance: { on: on, message: "upgrading chat" }
  after:
    - maintenance: off
up:
  - update: chat
    extra: { defaultTopic: custom }
`;

describe('a relup whose hook stops a service migrates its kept state with the relup', () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  const nodes: RelupNode[] = [];
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // 1.4.0: a high-priority script fails after code_change, so the upgrade rolls back.
    await sandbox.derive('1.1.0', '1.4.0', undefined, {
      'migrations/fail.ts': 'export default () => { throw new Error("backfill failed"); };\n',
    });
    sandbox.relup(
      '1.0.0-1.4.0',
      RELUP.replace('to: 1.1.0', 'to: 1.4.0').replace(
        'defaultTopic: custom }\n',
        'defaultTopic: custom }\n  - apply: { module: migrations/fail.ts, priority: high }\n',
      ),
    );
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    sandbox.remove();
  });

  it("migrates the stopped service's rooms with the relup's extra", async () => {
    sandbox.relup('1.0.0-1.1.0', RELUP);
    const node = await startChatNode(nats.server().url, 'mmig', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
    });
    nodes.push(node);
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'kept' });
    await s.request({ type: 'say', text: 'said before' });
    const report = await node.upgrade({ to: '1.1.0' });
    expect(report.outcome, JSON.stringify(report.error)).toBe('done');
    const again = await Session.open(nc, 'chat', { user: 'v', room: 'kept' });
    const history = (await again.request({ type: 'history' })).messages as { text: string; topic: string }[];
    expect(history).toEqual([expect.objectContaining({ text: 'said before', topic: 'custom' })]);
    // Rooms are cluster-wide: the next test's node must not meet this one's.
    await node.stop();
  });

  it("a rollback writes the stopped service's rooms back as they were", async () => {
    const node = await startChatNode(nats.server().url, 'mmig2', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
    });
    nodes.push(node);
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'back' });
    await s.request({ type: 'say', text: 'kept as it was' });
    const report = await node.upgrade({ to: '1.4.0' });
    expect(report.outcome).toBe('rolled_back');
    const stored = (await node.restartModes.store.getNamed('chat.room.back'))!;
    expect(stored.value.snapshot.version).toBe('1.0.0');
    expect(
      (stored.value.snapshot.snapshot as { context: Record<string, unknown> }).context,
    ).not.toHaveProperty('topic');
  });
});
