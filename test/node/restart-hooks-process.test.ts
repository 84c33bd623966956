import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, type NodeProcess, spawnNode } from '../helpers/node-spawn.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { connect } from './restart-modes-fixture.ts';

/** Appends one JSON line per hook call to the file named by RELUP_HOOK_LOG. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
const logHook = (hook) => (ctx) => {
  const file = process.env.RELUP_HOOK_LOG;
  if (file) appendFileSync(file, JSON.stringify({ hook, service: ctx.service, previous: ctx.previous.incarnation, modes: ctx.modes }) + '\\n');
};
`;

/** A second service, so the test sees that every cleanUpOnRestart runs before any startUpOnRestart. */
const BEACON = `import { createMachine } from 'xstate';
${HOOKS}
export default {
  name: 'beacon',
  version: 'VERSION',
  actors: { beat: createMachine({ id: 'beat', initial: 'on', states: { on: {} } }) },
  cleanUpOnRestart: logHook('cleanUpOnRestart'),
  startUpOnRestart: logHook('startUpOnRestart'),
};
`;

interface HookCall {
  hook: string;
  service: string;
  previous: number;
  modes: Record<string, string>;
}

type Mode = 'restart' | 'clear' | 'cleanup';

// Real `relup node` processes, stopped by SIGTERM or killed by SIGKILL, then booted again under
// the same node id: what each restart mode keeps, and when the services' own hooks run.
describe('restart modes and service restart hooks across real node processes', { timeout: 180_000 }, () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  const procs: NodeProcess[] = [];
  const versions: Record<Mode, string> = { restart: '1.0.10', clear: '1.0.11', cleanup: '1.0.12' };

  beforeAll(async () => {
    sandbox = releaseSandbox();
    for (const [mode, version] of Object.entries(versions) as [Mode, string][]) {
      await sandbox.derive(
        '1.0.0',
        version,
        (src) =>
          `${src.replace('import { assign', `${HOOKS}\nimport { assign`)}`.replace(
            'channel,\n  actors: { room },',
            "channel,\n  actors: { room },\n  cleanUpOnRestart: logHook('cleanUpOnRestart'),\n  startUpOnRestart: logHook('startUpOnRestart'),",
          ),
        { 'beacon.ts': BEACON.replace('VERSION', version) },
      );
      await sandbox.editManifest(version, (m) => {
        const [chat] = m.services;
        m.services = [
          { ...chat!, restart: mode },
          { name: 'beacon', module: 'beacon.ts', version },
        ];
      });
    }
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.signal('SIGKILL')));
  });
  afterAll(() => sandbox.remove());

  const boot = (node: string, mode: Mode, log: string) =>
    spawnNode({
      nats: nats.server().url,
      node,
      release: versions[mode],
      env: { RELUP_RELEASES: sandbox.releasesDir, RELUP_RELUPS: sandbox.relupsDir, RELUP_HOOK_LOG: log },
      onSpawn: (p) => procs.push(p),
    });
  const calls = (log: string): HookCall[] => {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as HookCall);
  };

  /** First run: one session says two things (each acknowledged, so stored); then the node ends. */
  async function firstRun(node: string, mode: Mode, end: 'SIGTERM' | 'SIGKILL', nc: NatsConnection) {
    const log = join(sandbox.releasesDir, `${node}.hooks`);
    const first = await boot(node, mode, log);
    if (mode === 'cleanup')
      expect(await command(nc, node, 'start_waiting', { service: 'chat' })).toEqual({ started: true });
    const s = await Session.open(nc, 'chat', { user: 'ada', room: `r-${node}` });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    expect((await command(nc, node, 'status')).incarnation).toBe(1);
    // A node id's first run has no earlier run to clean up after: no hook runs.
    expect(calls(log)).toEqual([]);
    await first.signal(end);
    return { s, log };
  }

  /** The second run's hooks: every cleanUpOnRestart (node-wide), then each startUpOnRestart. */
  function expectHooks(log: string, mode: Mode) {
    const modes = { service: mode, acceptor: mode, channels: mode };
    const all = { service: 'restart', acceptor: 'restart', channels: 'restart' };
    expect(calls(log)).toEqual([
      { hook: 'cleanUpOnRestart', service: 'chat', previous: 1, modes },
      { hook: 'cleanUpOnRestart', service: 'beacon', previous: 1, modes: all },
      ...(mode === 'cleanup' ? [] : [{ hook: 'startUpOnRestart', service: 'chat', previous: 1, modes }]),
      { hook: 'startUpOnRestart', service: 'beacon', previous: 1, modes: all },
    ]);
  }

  for (const end of ['SIGTERM', 'SIGKILL'] as const) {
    it(`restart, after ${end}: the session and its room come back with every acknowledged say`, async () => {
      const nc = await nats.connect();
      const node = `hk-rs-${end.toLowerCase()}`;
      const { s, log } = await firstRun(node, 'restart', end, nc);
      await boot(node, 'restart', log);
      expect((await command(nc, node, 'status')).incarnation).toBe(2);
      expectHooks(log, 'restart');
      expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
      const history = await s.request({ type: 'history' });
      expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two', 'three']);
    });

    it(`clear, after ${end}: nothing of the earlier run is restored; the service starts fresh`, async () => {
      const nc = await nats.connect();
      const node = `hk-cl-${end.toLowerCase()}`;
      const { s, log } = await firstRun(node, 'clear', end, nc);
      await boot(node, 'clear', log);
      expectHooks(log, 'clear');
      expect(await connect(nc, { session: s.id })).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_SESSION' },
      });
      const fresh = await Session.open(nc, 'chat', { user: 'bob', room: `r-${node}` });
      expect(await fresh.request({ type: 'history' })).toEqual({ ok: true, messages: [] });
    });

    it(`cleanup, after ${end}: leftovers are removed and chat waits for start_waiting, which runs its startUpOnRestart`, async () => {
      const nc = await nats.connect();
      const node = `hk-cu-${end.toLowerCase()}`;
      const { s, log } = await firstRun(node, 'cleanup', end, nc);
      await boot(node, 'cleanup', log);
      expectHooks(log, 'cleanup');
      await expect(Session.open(nc, 'chat', { user: 'bob', room: `r-${node}` })).rejects.toMatchObject({
        code: 'UNKNOWN_SERVICE',
      });
      // The operator starts it with relupctl.
      const started = await relupctl([
        'start-waiting',
        '--node',
        node,
        '--nats',
        nats.server().url,
        '--json',
        'chat',
      ]);
      expect(started.code, started.stderr).toBe(0);
      expect(JSON.parse(started.stdout)).toEqual({ started: true });
      expect(calls(log).at(-1)).toMatchObject({ hook: 'startUpOnRestart', service: 'chat', previous: 1 });
      expect(await connect(nc, { session: s.id })).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_SESSION' },
      });
      const fresh = await Session.open(nc, 'chat', { user: 'bob', room: `r-${node}` });
      expect(await fresh.request({ type: 'history' })).toEqual({ ok: true, messages: [] });
    });
  }
});
