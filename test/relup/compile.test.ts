import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRelupFile } from '../../src/relup/compile.ts';
import { formatPlan } from '../../src/relup/format-plan.ts';
import type { ReleaseInfo } from '../../src/relup/release-info.ts';
import { compile, ops, planOps, relupYaml, v100, v110 } from './compile-fixtures.ts';

const updateChat = relupYaml(
  '  - update: chat\n    extra: { defaultTopic: general }\n  - add: presence\n  - remove: legacy',
  'options: { suspendTimeout: 2s }\n',
);

describe('compileRelup: the standard modification', () => {
  it("brackets an update in edeliver's order around the point of no return", () => {
    const { plan } = compile(updateChat);
    expect(ops(plan.before)).toEqual([
      'check_acceptors',
      'check_channels',
      'load_object_code chat',
      'preflight_code_change chat',
      'load_object_code presence',
    ]);
    expect(ops(plan.after)).toEqual([
      'point_of_no_return',
      'suspend_acceptors',
      'suspend_channels',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
      'start_service presence',
      'stop_service legacy',
      'resume_channels',
      'resume_acceptors',
    ]);
    expect(plan).toMatchObject({ release: 'chat', from: '1.0.0', to: '1.1.0', direction: 'up' });
  });

  it('gives the steps the versions, the timeout and the extra of the relup', () => {
    const { plan } = compile(updateChat);
    const step = (id: string) => [...plan.before, ...plan.after].find((s) => s.id === id);
    expect(step('load_object_code:chat')?.args).toEqual({ version: '2.1.0' });
    expect(step('suspend_channels')?.args).toEqual({ timeoutMs: 2000 });
    expect(step('load:chat')?.args).toEqual({ version: '2.1.0', from: '2.0.0' });
    const migration = { direction: 'up', from: '2.0.0', to: '2.1.0', extra: { defaultTopic: 'general' } };
    expect(step('code_change:chat')?.args).toEqual(migration);
    expect(step('preflight_code_change:chat')?.args).toEqual(migration);
    expect(step('stop_service:legacy')?.args).toEqual({ version: '0.9.0' });
    expect(step('suspend_acceptors')?.origin).toBe('standard');
    expect(step('code_change:chat')?.origin).toBe('up[0]');
  });

  it('adds nothing without modifications, and nothing twice when the relup has the step', () => {
    const bare = compile(
      relupYaml('  - add: presence\n  - remove: legacy\n  - update: chat', 'options: { modifications: [] }'),
    );
    expect(planOps(bare.plan)).toEqual([
      'load_object_code presence',
      'load_object_code chat',
      'point_of_no_return',
      'start_service presence',
      'stop_service legacy',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
    ]);
    const own = compile(
      relupYaml('  - check_channels:\n  - update: chat\n  - add: presence\n  - remove: legacy'),
    );
    expect(planOps(own.plan).filter((op) => op === 'check_channels')).toHaveLength(1);
  });
});

describe('compileRelup: placement', () => {
  it('keeps low-level entries on their side of the point of no return, in file order', () => {
    const { plan } = compile(
      relupYaml(
        [
          '  - info: starting',
          '  - update: chat',
          '  - apply: { module: migrations/a.ts }',
          '  - sleep: 100ms',
          '  - apply: { module: migrations/b.ts, priority: low }',
          '  - info: done',
          '  - add: presence',
          '  - remove: legacy',
        ].join('\n'),
      ),
    );
    expect(ops(plan.before)).toEqual([
      'check_acceptors',
      'check_channels',
      'info',
      'load_object_code chat',
      'preflight_code_change chat',
      'load_object_code presence',
    ]);
    expect(ops(plan.after).slice(7, 13)).toEqual([
      'apply',
      'sleep',
      'apply',
      'info',
      'start_service presence',
      'stop_service legacy',
    ]);
    expect([...plan.before, ...plan.after].map((s) => s.id)).toContain('info#2');
    expect(plan.after.find((s) => s.id === 'apply:migrations/b.ts')?.args).toEqual({
      module: 'migrations/b.ts',
      priority: 'low',
      args: {},
    });
  });

  it('uses an explicit point_of_no_return instead of inserting one', () => {
    const { plan } = compile(
      relupYaml(
        '  - info: checked\n  - point_of_no_return:\n  - info: past it\n  - update: chat\n  - add: presence\n  - remove: legacy',
      ),
    );
    expect(plan.after[0]).toMatchObject({ op: 'point_of_no_return', origin: 'up[1]' });
    expect(plan.before.find((s) => s.op === 'info')?.args).toEqual({ message: 'checked' });
    expect(plan.after.find((s) => s.op === 'info')?.args).toEqual({ message: 'past it' });
  });
});

describe('formatPlan', () => {
  it('numbers the steps, marks the point of no return and names each origin', () => {
    const text = formatPlan(compile(updateChat).plan);
    const lines = text.split('\n');
    expect(lines[0]).toBe('chat 1.0.0 → 1.1.0 (up)');
    expect(lines[1]).toMatch(/^ {3}1\. check_acceptors +← standard$/);
    expect(lines[6]).toMatch(/^ {3}6\. ── point of no return ── +← up$/);
    expect(text).toMatch(/ {2}9\. suspend chat timeoutMs=2000 +← up\[0\]/);
    expect(text).toContain(
      'code_change chat direction=up from=2.0.0 to=2.1.0 extra={"defaultTopic":"general"}',
    );
    expect(lines).toHaveLength(1 + 16);
  });
});

describe('compileRelupFile', () => {
  it("compiles the chat example's relup against its release manifests", async () => {
    const manifest = async (version: string) =>
      JSON.parse(await readFile(`examples/chat/releases/${version}/release.json`, 'utf8')) as ReleaseInfo;
    const { plan, down } = await compileRelupFile('relups/chat/1.0.0-1.1.0.yaml', {
      fromManifest: await manifest('1.0.0'),
      toManifest: await manifest('1.1.0'),
    });
    const seed = [
      'check_acceptors',
      'check_channels',
      'load_object_code chat',
      'preflight_code_change chat',
      'point_of_no_return',
      'suspend_acceptors',
      'suspend_channels',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
      'resume_channels',
      'resume_acceptors',
    ];
    expect(planOps(plan)).toEqual(seed);
    expect(planOps(down)).toEqual(seed);
  });

  it('reads the relup file and names it in problems', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relup-compile-'));
    try {
      const file = join(dir, '1.0.0-1.1.0.yaml');
      await writeFile(file, updateChat);
      const { plan } = await compileRelupFile(file, { fromManifest: v100, toManifest: v110 });
      expect(plan.after).toHaveLength(11);
      await writeFile(file, updateChat.replace('update: chat', 'update: chatt'));
      await expect(compileRelupFile(file, { fromManifest: v100, toManifest: v110 })).rejects.toMatchObject({
        code: 'BAD_RELUP',
        details: { problems: [{ file, path: 'up[0].update', line: 5 }] },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
