import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { command } from './control-helpers.ts';

const flaky = globalThis as { backfillFails?: boolean };

// The maintenance paths that work and that only unit tests or nothing checked: each over NATS,
// as an operator drives them, on a real nats-server.
describe('maintenance paths over NATS and relupctl', { timeout: 120_000 }, () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  const nodes: RelupNode[] = [];
  const controls: ControlServer[] = [];
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // 2.1.0: chat plus a reports service that needs an engine this is not.
    await sandbox.derive('1.0.0', '2.1.0', undefined, {
      'reports.ts':
        "import { createMachine } from 'xstate';\nexport default { name: 'reports', version: '2.1.0', channel: createMachine({}) };\n",
    });
    await sandbox.editManifest('2.1.0', (m) => {
      m.services.push({ name: 'reports', module: 'reports.ts', version: '2.1.0', engine: '>=99.0.0' });
    });
    // 1.7.0: a high-priority backfill that fails while the test says so.
    await sandbox.derive('1.1.0', '1.7.0', undefined, {
      'migrations/backfill.ts':
        'export default () => { if (globalThis.backfillFails) throw new Error("backfill failed"); };\n',
    });
    sandbox.relup(
      '1.0.0-1.7.0',
      'release: chat\nfrom: 1.0.0\nto: 1.7.0\nup:\n  - update: chat\n  - apply: { module: migrations/backfill.ts, priority: high }\ndown: auto\n',
    );
  });
  afterEach(async () => {
    await Promise.all(controls.splice(0).map((c) => c.stop()));
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });
  afterAll(() => {
    delete flaky.backfillFails;
    sandbox.remove();
  });

  async function start(id: string, release = '1.0.0') {
    const node = await startChatNode(nats.server().url, id, {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release,
    });
    nodes.push(node);
    controls.push(await startControlServer(node));
    return node;
  }

  it('an engine range the engine does not meet is a dependency error at boot; a manual reason on top holds until both are gone', async () => {
    const node = await start('eng', '2.1.0');
    const nc = await nats.connect();
    // Initialized (loaded, as far as it goes) but not ready: in maintenance for the dependency.
    expect([node.isInitialized(), node.isReady(), node.isMaintenance()]).toEqual([true, false, true]);
    const status = (await command(nc, 'eng', 'status')).result;
    expect(status.maintenance).toMatchObject([
      {
        reason: 'dependency_error',
        details: [{ service: 'reports', problem: expect.stringContaining('>=99.0.0') }],
      },
    ]);
    // In maintenance only what is declared or allowed runs.
    expect(node.isAllowed('job:digest')).toBe(false);
    expect(node.isAllowed('job:digest', true)).toBe(true);
    node.allowInMaintenance('job:digest');
    expect(node.isAllowed('job:digest')).toBe(true);
    expect(node.isAllowed('job:other')).toBe(false);

    // An operator's maintenance joins the dependency error: two reasons at once.
    expect(await command(nc, 'eng', 'maintenance', { on: true, message: 'db move' })).toMatchObject({
      ok: true,
    });
    const both = (await command(nc, 'eng', 'status')).result;
    expect(both.maintenance.map((m: { reason: string }) => m.reason)).toEqual(['dependency_error', 'manual']);
    // The dependency error goes: the operator's reason still holds, chat still refuses.
    expect(await command(nc, 'eng', 'disable_service', { service: 'reports' })).toMatchObject({ ok: true });
    const left = (await command(nc, 'eng', 'status')).result;
    expect(left.state).toBe('maintenance');
    expect(left.maintenance.map((m: { reason: string }) => m.reason)).toEqual(['manual']);
    expect(left.disabled).toEqual(['reports']);
    await expect(Session.open(nc, 'chat', { user: 'u', room: 'eng' })).rejects.toMatchObject({
      code: 'MAINTENANCE',
      message: expect.stringContaining('db move'),
    });
    // Both gone: ready, and chat serves.
    expect(await command(nc, 'eng', 'maintenance', { on: false })).toMatchObject({
      ok: true,
      result: { state: 'ready' },
    });
    expect([node.isReady(), node.isAllowed('job:other')]).toEqual([true, true]);
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'eng' });
    expect((await s.request({ type: 'say', text: 'back' })).ok).toBe(true);
  });

  it('retry over NATS runs the failed script again and, once it passes, finishes the upgrade', async () => {
    const node = await start('rt');
    const nc = await nats.connect();
    flaky.backfillFails = true;
    const failed = await command(nc, 'rt', 'upgrade', { to: '1.7.0' });
    expect(failed.result).toMatchObject({ outcome: 'rolled_back' });
    expect(node.status().maintenance).toMatchObject([{ reason: 'script_failed' }]);
    flaky.backfillFails = false;
    const retried = await command(nc, 'rt', 'retry');
    expect(retried).toMatchObject({ ok: true, result: { outcome: 'done', to: '1.7.0' } });
    expect(retried.result.steps.some((s: { op: string }) => s.op === 'apply')).toBe(true);
    expect((await command(nc, 'rt', 'status')).result).toMatchObject({ state: 'ready', release: '1.7.0' });
  });

  it('skip over NATS finishes the upgrade without the failed script', async () => {
    const node = await start('sk');
    const nc = await nats.connect();
    flaky.backfillFails = true;
    expect((await command(nc, 'sk', 'upgrade', { to: '1.7.0' })).result).toMatchObject({
      outcome: 'rolled_back',
    });
    expect(node.state).toBe('maintenance');
    const skipped = await command(nc, 'sk', 'skip');
    expect(skipped).toMatchObject({ ok: true, result: { outcome: 'done', to: '1.7.0' } });
    expect(skipped.result.steps.some((s: { op: string }) => s.op === 'apply')).toBe(false);
    expect((await command(nc, 'sk', 'status')).result).toMatchObject({ state: 'ready', release: '1.7.0' });
  });

  it('the grace of `maintenance on` lasts its whole duration before anyone is disconnected', async () => {
    await start('gr');
    const nc = await nats.connect();
    const seen: { type: unknown; phase?: unknown; at: number }[] = [];
    await Session.open(
      nc,
      'chat',
      { user: 'u', room: 'gr' },
      { onPush: (m) => seen.push({ type: m.type, phase: m.phase, at: performance.now() }) },
    );
    const sent = performance.now();
    expect(await command(nc, 'gr', 'maintenance', { on: true, grace: '1s' })).toMatchObject({
      ok: true,
      result: { disconnected: 1 },
    });
    expect(performance.now() - sent).toBeGreaterThanOrEqual(1000);
    const notice = seen.find((p) => p.phase === 'notice');
    const closed = seen.find((p) => p.type === 'closed');
    expect(notice && closed).toBeTruthy();
    // Timers never fire early; a millisecond of rounding between clocks is all the slack there is.
    expect((closed?.at ?? 0) - (notice?.at ?? 0)).toBeGreaterThanOrEqual(999);
    expect(seen.filter((p) => p.phase === 'countdown').length).toBeGreaterThan(0);
  });

  it('relupctl notify, disconnect and maintenance on/off drive a node end to end', async () => {
    await start('cli');
    const nc = await nats.connect();
    const url = nats.server().url;
    const pushes: Record<string, unknown>[] = [];
    const kept = await Session.open(
      nc,
      'chat',
      { user: 'k', room: 'cli' },
      { onPush: (m) => pushes.push(m) },
    );
    const gone = await Session.open(nc, 'chat', { user: 'g', room: 'cli' });

    const notified = await relupctl(['notify', '--node', 'cli', '--nats', url, '--json', 'coffee break']);
    expect(notified.code, notified.stderr).toBe(0);
    expect(JSON.parse(notified.stdout)).toEqual({ sessions: 2 });
    await kept.request({ type: 'history' });
    expect(pushes).toContainEqual({ type: 'notice', message: 'coffee break' });

    const cut = await relupctl(['disconnect', '--node', 'cli', '--nats', url, '--json', '--except', kept.id]);
    expect(cut.code, cut.stderr).toBe(0);
    expect(JSON.parse(cut.stdout)).toEqual({ disconnected: 1 });
    await expect(gone.request({ type: 'history' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });

    const until = '2030-01-01T06:00:00Z';
    const on = await relupctl([
      'maintenance',
      'on',
      '--node',
      'cli',
      '--nats',
      url,
      '--message',
      'back at 6',
      '--grace',
      '100ms',
      '--until',
      until,
    ]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('cli: maintenance done');
    await expect(Session.open(nc, 'chat', { user: 'n', room: 'cli' })).rejects.toMatchObject({
      code: 'MAINTENANCE',
      message: `back at 6 (until ${until})`,
    });
    const off = await relupctl(['maintenance', 'off', '--node', 'cli', '--nats', url, '--json']);
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ state: 'ready' });
    const back = await Session.open(nc, 'chat', { user: 'n', room: 'cli' });
    expect((await back.request({ type: 'say', text: 'hi' })).ok).toBe(true);
    // A bad duration is refused before anything is sent.
    const bad = await relupctl(['maintenance', 'on', '--node', 'cli', '--nats', url, '--grace', 'soon']);
    expect(bad.code).not.toBe(0);
    expect((await command(nc, 'cli', 'status')).result.state).toBe('ready');
  });
});
