import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

const UPDATE = (from: string, to: string, extra = '', options = '') => `release: chat
from: ${from}
to: ${to}
up:
  - update: chat
${extra}down: auto
${options}`;

/** Everything a failed upgrade must leave exactly as it was. */
function fingerprint(node: RelupNode) {
  const chat = node.services.get('chat')!;
  return {
    release: node.release.version,
    serviceVersion: chat.version,
    channelVersions: [...chat.channelActors()].map((a) => `${a.id}@${a.version}:${a.status}`).sort(),
    rooms: node.named
      .ownedBy('chat')
      .map((a) => ({ id: a.id, version: a.version, status: a.status, context: a.context })),
    acceptorSuspended: chat.acceptor.isSuspended,
  };
}

describe('each failure point leaves the node consistent (real NATS)', () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  const nodes: RelupNode[] = [];
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // 1.2.0: its module is changed after sealing, so its hash does not match.
    await sandbox.derive('1.1.0', '1.2.0');
    const { appendFileSync } = await import('node:fs');
    appendFileSync(`${sandbox.releasesDir}/1.2.0/chat.ts`, '\n// tampered\n');
    sandbox.relup('1.0.0-1.2.0', UPDATE('1.0.0', '1.2.0'));
    // 1.3.0: its room migration throws.
    await sandbox.derive('1.1.0', '1.3.0', (src) =>
      src.replace(
        "if (kind !== 'room') return snapshot;",
        "if (kind === 'room') throw new Error('cannot migrate rooms');",
      ),
    );
    sandbox.relup('1.0.0-1.3.0', UPDATE('1.0.0', '1.3.0'));
    // 1.4.0: a high-priority migration script fails after the point of no return; 1.5.0: a low one.
    const failing = {
      'migrations/fail.ts': 'export default () => { throw new Error("backfill failed"); };\n',
    };
    await sandbox.derive('1.1.0', '1.4.0', undefined, failing);
    sandbox.relup(
      '1.0.0-1.4.0',
      UPDATE('1.0.0', '1.4.0', '  - apply: { module: migrations/fail.ts, priority: high }\n'),
    );
    await sandbox.derive('1.1.0', '1.5.0', undefined, failing);
    // 1.6.0: a migration whose undo fails, then a failing one: the rollback itself fails.
    await sandbox.derive('1.1.0', '1.6.0', undefined, {
      ...failing,
      'migrations/ok.ts': 'export default () => {};\n',
      'migrations/unok.ts': 'export default () => { throw new Error("cannot undo"); };\n',
    });
    sandbox.relup(
      '1.0.0-1.6.0',
      UPDATE(
        '1.0.0',
        '1.6.0',
        '  - apply: { module: migrations/ok.ts, priority: high, down: migrations/unok.ts }\n  - apply: { module: migrations/fail.ts, priority: high }\n',
      ),
    );
    sandbox.relup(
      '1.0.0-1.5.0',
      UPDATE('1.0.0', '1.5.0', '  - apply: { module: migrations/fail.ts, priority: low }\n'),
    );
    // 1.0.1: a channel message can stall in an async effect, to make a suspension time out.
    await sandbox.derive('1.0.0', '1.0.1', (src) =>
      src.replace(
        "    'session.closed': {",
        "    stall: { actions: () => (globalThis as { __stall?: Promise<void> }).__stall },\n    'session.closed': {",
      ),
    );
    await sandbox.derive('1.1.0', '1.1.1');
    sandbox.relup('1.0.1-1.1.1', UPDATE('1.0.1', '1.1.1', '', 'options: { suspendTimeout: 150ms }\n'));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    sandbox?.remove();
  });

  async function nodeWithTraffic(id: string) {
    // Each test's node has a subject prefix of its own: its sessions cannot land on another node.
    const node = await startChatNode(nats.server().url, id, {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      prefix: id,
    });
    nodes.push(node);
    const nc = await nats.connect();
    const sessions = await Promise.all(
      [0, 1, 2].map((i) => Session.open(nc, 'chat', { user: `${id}${i}`, room: id }, { prefix: id })),
    );
    for (const s of sessions) await s.request({ type: 'say', text: 'before' });
    return { node, sessions };
  }

  it('before the point of no return: new code whose hash does not match → aborted, nothing changed', async () => {
    const { node, sessions } = await nodeWithTraffic('hash');
    const before = fingerprint(node);
    const report = await node.upgrade({ to: '1.2.0' });
    expect(report.outcome).toBe('aborted');
    expect(report.error?.code).toBe('HASH_MISMATCH');
    expect(report.steps.some((s) => s.op === 'point_of_no_return' && s.result === 'ok')).toBe(false);
    expect(fingerprint(node)).toEqual(before);
    expect((await sessions[0]!.request({ type: 'say', text: 'after' })).ok).toBe(true);
  });

  it('before the point of no return: an acceptor that is not subscribed fails check_acceptors → aborted', async () => {
    const { node } = await nodeWithTraffic('acc');
    const chat = node.services.get('chat')!;
    await chat.acceptor.stop();
    const before = fingerprint(node);
    const report = await node.upgrade({ to: '1.1.0' });
    expect(report.outcome).toBe('aborted');
    expect(report.error?.code).toBe('CHECK_FAILED');
    expect(report.error?.message).toMatch(/acceptor of chat is not subscribed/);
    expect(fingerprint(node)).toEqual(before);
    expect(report.steps.map((s) => s.op)).toEqual(['check_acceptors']);
  });

  it('before the point of no return: a channel whose subscription is gone fails check_channels → aborted', async () => {
    const { node, sessions } = await nodeWithTraffic('chk');
    const chat = node.services.get('chat')!;
    // A session's subscription lost (as after a failed resubscribe): its client cannot reach it.
    const lost = (chat as unknown as { channels: Map<string, { sub: { unsubscribe(): void } }> }).channels
      .values()
      .next().value!;
    lost.sub.unsubscribe();
    const before = fingerprint(node);
    const report = await node.upgrade({ to: '1.1.0' });
    expect(report.outcome).toBe('aborted');
    expect(report.error?.code).toBe('CHECK_FAILED');
    expect(report.error?.message).toMatch(/session \S+ is not subscribed/);
    expect(report.steps.some((s) => s.op === 'point_of_no_return' && s.result === 'ok')).toBe(false);
    expect(fingerprint(node)).toEqual(before);
    expect(sessions).toHaveLength(3);
  });

  it('channels that cannot be suspended: suspend_channels warns (not_supported) and the upgrade goes on', async () => {
    const node = await startChatNode(nats.server().url, 'nosus', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      prefix: 'nosus',
    });
    nodes.push(node);
    const chat = node.services.get('chat')!;
    chat.def = { ...chat.def, suspendableChannels: false };
    const nc = await nats.connect();
    const s = await Session.open(nc, 'chat', { user: 'n', room: 'nosus' }, { prefix: 'nosus' });
    await s.request({ type: 'say', text: 'before' });
    const report = await node.upgrade({ to: '1.1.0' });
    expect(report.outcome, JSON.stringify(report.error)).toBe('done');
    expect(report.steps.find((st) => st.op === 'suspend_channels')).toMatchObject({
      result: 'warning',
      bulk: { result: 'not_supported' },
    });
    expect((await s.request({ type: 'topic', text: 'new code' })).topic).toBe('new code');
  });

  it('before the point of no return: a migration that throws on a copy of live state → aborted, nothing changed', async () => {
    const { node, sessions } = await nodeWithTraffic('pre');
    const before = fingerprint(node);
    const report = await node.upgrade({ to: '1.3.0' });
    expect(report.outcome).toBe('aborted');
    expect(report.error?.code).toBe('PREFLIGHT_FAILED');
    expect(fingerprint(node)).toEqual(before);
    expect((await sessions[1]!.request({ type: 'say', text: 'after' })).ok).toBe(true);
  });

  it('after the point of no return: a failing high-priority apply rolls back to old code and old state, then maintenance with retry and skip', async () => {
    const { node, sessions } = await nodeWithTraffic('high');
    const before = fingerprint(node);
    // Keep a client sending through the rollback: none of its messages may be lost. It stops
    // when maintenance mode (entered after the rollback, see below) disconnects it.
    let running = true;
    const sender = (async () => {
      const seqs: number[] = [];
      try {
        while (running)
          seqs.push((await sessions[2]!.request({ type: 'say', text: 'during' })).seq as number);
      } catch (err) {
        expect(err).toMatchObject({ code: expect.stringMatching(/UNKNOWN_SESSION|MAINTENANCE/) });
      }
      return seqs;
    })();
    // The node as it is the moment the rollback ends, before maintenance mode reduces it.
    let rolledBack: ReturnType<typeof fingerprint> | undefined;
    const report = await node.upgrade({
      to: '1.4.0',
      onEvent: (e) => {
        if (e.type === 'state' && e.state === 'rolled_back') rolledBack = fingerprint(node);
      },
    });
    running = false;
    const seqs = await sender;
    expect(report.outcome).toBe('rolled_back');
    expect(report.error?.message).toMatch(/backfill failed/);
    expect(report.steps.filter((s) => s.undone).map((s) => s.op)).toContain('code_change');
    const after = rolledBack!;
    expect(after.release).toBe('1.0.0');
    expect(after.serviceVersion).toBe('1.0.0');
    expect(after.channelVersions).toEqual(before.channelVersions);
    expect(after.acceptorSuspended).toBe(false);
    // Same room state shape as before, with the messages said meanwhile on top.
    const room = after.rooms[0]!.context as { seq: number; messages: unknown[] };
    expect(after.rooms[0]!.version).toBe('1.0.0');
    expect(room).not.toHaveProperty('topic');
    expect(room.messages).toHaveLength(room.seq);
    // The sender's messages got seqs 4, 5, … without a gap; the rolled-back room had all it had seen.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 4 + i));
    expect(room.seq).toBeGreaterThanOrEqual(3);
    expect(room.seq).toBeLessThanOrEqual(3 + seqs.length);

    // Then automatic maintenance names the script; retry fails again, skip goes through.
    expect(node.state).toBe('maintenance');
    expect(node.status().maintenance).toMatchObject([{ reason: 'script_failed' }]);
    expect(node.failedScript?.module ?? node.failedScript?.step).toMatch(/fail/);
    const nc = await nats.connect();
    await expect(
      Session.open(nc, 'chat', { user: 'x', room: 'high' }, { prefix: 'high' }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/MAINTENANCE|UNKNOWN_SERVICE/),
    });
    const retried = await node.resolveFailedScript('retry');
    expect(retried.outcome).toBe('rolled_back');
    expect(node.state).toBe('maintenance');
    const skipped = await node.resolveFailedScript('skip');
    expect(skipped.outcome).toBe('done');
    expect(skipped.steps.some((s) => s.op === 'apply')).toBe(false);
    expect(node.state).toBe('ready');
    expect(node.release.version).toBe('1.4.0');
    const s = await Session.open(nc, 'chat', { user: 'y', room: 'high' }, { prefix: 'high' });
    expect((await s.request({ type: 'say', text: 'back' })).ok).toBe(true);
  });

  it('after the point of no return: a channel that does not suspend in time → rolled back, the failure named', async () => {
    const node = await startChatNode(nats.server().url, 'stuck', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release: '1.0.1',
      prefix: 'stuck',
    });
    nodes.push(node);
    const nc = await nats.connect();
    const [stuck, fine] = await Promise.all(
      ['s', 'f'].map((u) => Session.open(nc, 'chat', { user: u, room: 'stuck' }, { prefix: 'stuck' })),
    );
    let unstall!: () => void;
    (globalThis as { __stall?: Promise<void> }).__stall = new Promise((r) => {
      unstall = r;
    });
    const stalled = stuck!.request({ type: 'stall' });
    // A round trip on another session of the same node: the stall has reached its channel by then.
    await fine!.request({ type: 'history' });
    const before = fingerprint(node);
    const report = await node.upgrade({ to: '1.1.1' });
    expect(report.outcome).toBe('rolled_back');
    expect(report.error?.code).toBe('SUSPEND_TIMEOUT');
    expect(JSON.stringify(report.error?.details)).toContain(stuck!.id);
    unstall();
    await stalled;
    const after = fingerprint(node);
    expect(after.release).toBe('1.0.1');
    expect(after.channelVersions).toEqual(before.channelVersions);
    expect(after.acceptorSuspended).toBe(false);
    expect((await fine!.request({ type: 'say', text: 'after' })).ok).toBe(true);
    expect((await stuck!.request({ type: 'say', text: 'after' })).ok).toBe(true);
  });

  it('a rollback that fails too leaves the node in maintenance with the incident', async () => {
    const { node } = await nodeWithTraffic('inc');
    const report = await node.upgrade({ to: '1.6.0' });
    expect(report.outcome).toBe('failed');
    expect(report.error?.code).toBe('ROLLBACK_FAILED');
    expect(node.state).toBe('maintenance');
    expect(node.status().maintenance).toMatchObject([
      {
        reason: 'upgrade_failed',
        details: { details: { undo: { error: { message: expect.stringMatching(/cannot undo/) } } } },
      },
    ]);
  });

  it('a failing low-priority apply is reported as a warning and the upgrade goes on', async () => {
    const { node } = await nodeWithTraffic('low');
    const report = await node.upgrade({ to: '1.5.0' });
    expect(report.outcome).toBe('done');
    expect(report.steps.find((s) => s.op === 'apply')?.result).toBe('warning');
    expect(node.release.version).toBe('1.5.0');
  });

  it('one upgrade at a time: a second request gets BUSY', async () => {
    const { node } = await nodeWithTraffic('busy');
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let reached!: () => void;
    const atBarrier = new Promise<void>((r) => {
      reached = r;
    });
    const first = node.upgrade({
      to: '1.1.0',
      barrier: () => {
        reached();
        return held;
      },
    });
    await atBarrier;
    await expect(node.upgrade({ to: '1.1.0' })).rejects.toMatchObject({ code: 'BUSY' });
    release();
    expect((await first).outcome).toBe('done');
  });
});
