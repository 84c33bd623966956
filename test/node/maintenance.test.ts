import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

const TOKEN = 'let-me-in';

describe('maintenance mode (real NATS)', () => {
  const nats = useNats();
  const nodes: RelupNode[] = [];
  let sandbox: ReleaseSandbox;
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // 2.0.0: chat plus a presence service that requires a service the release lacks.
    await sandbox.derive('1.0.0', '2.0.0', undefined, {
      'presence.ts':
        "import { createMachine } from 'xstate';\nexport default { name: 'presence', version: '2.0.0', channel: createMachine({}) };\n",
    });
    await sandbox.editManifest('2.0.0', (m) => {
      m.services.push({ name: 'presence', module: 'presence.ts', version: '2.0.0', requires: ['ghost'] });
    });
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    sandbox.remove();
  });

  async function start(id: string, extra = {}) {
    const node = await startChatNode(nats.server().url, id, {
      prefix: id,
      superAdminTokens: [TOKEN],
      ...extra,
    });
    nodes.push(node);
    return node;
  }

  it('notifies, counts down the grace, disconnects all but super-admins, refuses others, admits everyone after', async () => {
    const node = await start('mm');
    // chat plays an admin service here: it runs in maintenance, so the super-admin path is open.
    const chat = node.services.get('chat')!;
    chat.def = { ...chat.def, requiredInMaintenance: true };
    const nc = await nats.connect();
    const pushes: Record<string, unknown>[] = [];
    const adminPushes: Record<string, unknown>[] = [];
    const user = await Session.open(
      nc,
      'chat',
      { user: 'u', room: 'r' },
      { prefix: 'mm', onPush: (m) => pushes.push(m) },
    );
    const admin = await Session.open(
      nc,
      'chat',
      { user: 'root', room: 'r', role: 'superadmin', token: TOKEN },
      { prefix: 'mm', onPush: (m) => adminPushes.push(m) },
    );
    const events: string[] = [];
    nc.subscribe('mm.evt.mm', {
      callback: (_e, m) => {
        events.push(decode<{ state?: string }>(m.data).state ?? '');
      },
    });
    await nc.flush();

    const result = await node.enterMaintenance({
      message: 'upgrade tonight',
      graceMs: 300,
      tickMs: 100,
      until: '2026-11-25T06:00:00Z',
    });
    expect(result.disconnected).toBe(1);
    expect(node.isMaintenance()).toBe(true);
    expect(node.isReady()).toBe(false);
    // The user heard: the notice, at least one countdown, the final notice, then closed.
    await user.request({ type: 'history' }).catch(() => {});
    const phases = pushes.filter((m) => m.type === 'maintenance').map((m) => m.phase);
    expect(phases[0]).toBe('notice');
    expect(phases).toContain('countdown');
    expect(phases.at(-1)).toBe('now');
    expect(pushes.at(-1)).toMatchObject({ type: 'closed' });
    await expect(user.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    // Refused on reconnect, told why and until when; a claimed role without the token gets nothing.
    const refused = Session.open(nc, 'chat', { user: 'u', room: 'r' }, { prefix: 'mm' });
    await expect(refused).rejects.toMatchObject({
      code: 'MAINTENANCE',
      details: { until: '2026-11-25T06:00:00Z' },
    });
    await expect(
      Session.open(nc, 'chat', { user: 'u', room: 'r', role: 'superadmin' }, { prefix: 'mm' }),
    ).rejects.toMatchObject({ code: 'SESSION_REFUSED' });
    // The super-admin stayed connected and another one gets in.
    expect((await admin.request({ type: 'say', text: 'still here' })).ok).toBe(true);
    const admin2 = await Session.open(
      nc,
      'chat',
      { user: 'root2', room: 'r', role: 'superadmin', token: TOKEN },
      { prefix: 'mm' },
    );
    expect((await admin2.request({ type: 'history' })).ok).toBe(true);
    expect(result.stopped).toEqual([]);
    await node.leaveMaintenance();
    expect(node.state).toBe('ready');
    const back = await Session.open(nc, 'chat', { user: 'u2', room: 'r' }, { prefix: 'mm' });
    expect((await back.request({ type: 'say', text: 'hi' })).ok).toBe(true);
    expect(events).toContain('maintenance');
    expect(events.at(-1)).toBe('ready');
    expect(adminPushes.some((m) => m.phase === 'notice')).toBe(true);
  });

  it('keeps super-admin sessions and services required in maintenance; closes other sessions at their next message', async () => {
    const node = await start('keep');
    const chat = node.services.get('chat')!;
    chat.def = { ...chat.def, requiredInMaintenance: true };
    const nc = await nats.connect();
    const admin = await Session.open(
      nc,
      'chat',
      { user: 'root', room: 'k', role: 'superadmin', token: TOKEN },
      { prefix: 'keep' },
    );
    const user = await Session.open(nc, 'chat', { user: 'u', room: 'k' }, { prefix: 'keep' });
    // A maintenance reason that does not disconnect anyone by itself: the session meets the gate on its next message.
    node.maintenance.addReason({ reason: 'manual', message: 'gate test', since: new Date().toISOString() });
    await expect(user.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'MAINTENANCE' });
    await expect(user.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    expect((await admin.request({ type: 'say', text: 'admin still here' })).ok).toBe(true);
    const admin2 = await Session.open(
      nc,
      'chat',
      { user: 'root2', room: 'k', role: 'superadmin', token: TOKEN },
      { prefix: 'keep' },
    );
    expect((await admin2.request({ type: 'history' })).ok).toBe(true);
    expect(node.notifyClients({ type: 'notice', message: 'hello admins' })).toBe(2);
    await node.leaveMaintenance();
  });

  it('a client session that resumes by itself does not retry a session the node ended: it fails at once', async () => {
    const node = await start('mr');
    const nc = await nats.connect();
    let onClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      onClosed = resolve;
    });
    const s = await Session.open(
      nc,
      'chat',
      { user: 'u', room: 'r' },
      { prefix: 'mr', resumeWithinMs: 60_000, onPush: (m) => m.type === 'closed' && onClosed() },
    );
    await node.enterMaintenance({ message: 'now' });
    await closed;
    const t0 = performance.now();
    // Not resumable: no minute of reconnects refused MAINTENANCE; the ended session fails now.
    await expect(s.request({ type: 'say', text: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    expect(performance.now() - t0).toBeLessThan(30_000);
    await node.leaveMaintenance();
  }, 90_000);

  it('skips scheduled jobs and disables event listeners in maintenance unless allowed', async () => {
    const node = await start('jobs');
    let plain = 0;
    let allowed = 0;
    node.scheduler.every({ name: 'plain', everyMs: 3_600_000, run: () => void plain++ });
    node.scheduler.every({
      name: 'allowed',
      everyMs: 3_600_000,
      run: () => void allowed++,
      allowInMaintenance: true,
    });
    const heard: string[] = [];
    node.events.on('custom', () => heard.push('plain'));
    node.events.on('custom', () => heard.push('allowed'), { allowInMaintenance: true });
    expect(await node.scheduler.tick('plain')).toBe('ran');
    node.events.emit('custom');
    const entered = await node.enterMaintenance({ message: 'jobs test' });
    // chat is not required in maintenance: stopped, and its connects are refused with the reason.
    expect(entered.stopped).toEqual(['chat']);
    const nc = await nats.connect();
    await expect(
      Session.open(nc, 'chat', { user: 'u', room: 'j' }, { prefix: 'jobs' }),
    ).rejects.toMatchObject({
      code: 'MAINTENANCE',
      message: 'jobs test',
    });
    expect(await node.scheduler.tick('plain')).toBe('skipped');
    expect(await node.scheduler.tick('allowed')).toBe('ran');
    node.events.emit('custom');
    expect(heard).toEqual(['plain', 'allowed', 'allowed']);
    expect(node.status().jobs.find((j) => j.name === 'plain')).toMatchObject({ runs: 1, skipped: 1 });
    expect([plain, allowed]).toEqual([1, 1]);
    await node.leaveMaintenance();
    expect(await node.scheduler.tick('plain')).toBe('ran');
  });

  it('boots into maintenance on a dependency error; disabling the broken service ends it', async () => {
    const node = await start('dep', { releasesDir: sandbox.releasesDir, release: '2.0.0' });
    expect(node.state).toBe('maintenance');
    expect(node.status().maintenance).toMatchObject([
      {
        reason: 'dependency_error',
        details: [{ service: 'presence', problem: expect.stringContaining('ghost') }],
      },
    ]);
    const nc = await nats.connect();
    // chat is held (not required in maintenance): its connects are refused with the reason.
    await expect(Session.open(nc, 'chat', { user: 'u', room: 'd' }, { prefix: 'dep' })).rejects.toMatchObject(
      {
        code: 'MAINTENANCE',
        message: expect.stringContaining('ghost'),
      },
    );
    await node.disableService('presence');
    expect(node.state).toBe('ready');
    expect(node.status().disabled).toEqual(['presence']);
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'd' }, { prefix: 'dep' });
    expect((await s.request({ type: 'say', text: 'fixed' })).ok).toBe(true);
  });
});
