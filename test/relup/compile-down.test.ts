import { describe, expect, it } from 'vitest';
import { compile, ops, relupError, relupYaml } from './compile-fixtures.ts';

describe('down: auto', () => {
  const source = relupYaml(
    [
      '  - update: chat',
      '    extra: { defaultTopic: general }',
      '  - add: presence',
      '  - remove: legacy',
      '  - apply: { module: migrations/backfill.ts, args: { batch: 10 }, down: migrations/unbackfill.ts }',
      '  - apply: { module: migrations/stats.ts, priority: low }',
      '  - info: "up only"',
      '  - sleep: 2s',
    ].join('\n'),
  );

  it('reverses the entries, inverts each and runs the same pipeline from 1.1.0 to 1.0.0', () => {
    const { down } = compile(source);
    expect(down).toMatchObject({ release: 'chat', from: '1.1.0', to: '1.0.0', direction: 'down' });
    expect(ops(down.before)).toEqual([
      'check_acceptors',
      'check_channels',
      'sleep',
      'info',
      'load_object_code legacy',
      'load_object_code chat',
      'preflight_code_change chat',
    ]);
    expect(ops(down.after)).toEqual([
      'point_of_no_return',
      'suspend_acceptors',
      'suspend_channels',
      'apply',
      'start_service legacy',
      'stop_service presence',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
      'resume_channels',
      'resume_acceptors',
    ]);
  });

  it('loads the old versions, migrates down and swaps the apply modules', () => {
    const { down } = compile(source);
    const step = (id: string) => [...down.before, ...down.after].find((s) => s.id === id);
    expect(step('load_object_code:chat')?.args).toEqual({ version: '2.0.0' });
    expect(step('load:chat')?.args).toEqual({ version: '2.0.0', from: '2.1.0' });
    expect(step('code_change:chat')?.args).toEqual({
      direction: 'down',
      from: '2.1.0',
      to: '2.0.0',
      extra: { defaultTopic: 'general' },
    });
    expect(step('start_service:legacy')?.args).toEqual({ version: '0.9.0' });
    expect(step('apply:migrations/unbackfill.ts')).toMatchObject({
      args: { module: 'migrations/unbackfill.ts', down: 'migrations/backfill.ts', args: { batch: 10 } },
      origin: 'auto(up[3])',
    });
    expect(step('info')?.args).toEqual({
      message: 'apply migrations/stats.ts has no down module: nothing reverses it',
    });
    expect(step('sleep')?.origin).toBe('auto(up[6])');
  });

  it('inverts low-level entries with their instruction', () => {
    const { plan, down } = compile(
      relupYaml(
        '  - update: chat\n  - add: presence\n  - remove: legacy\n  - { op: maintenance, args: { on: on } }',
      ),
    );
    const maintenance = (p: typeof plan) => [...p.before, ...p.after].filter((s) => s.op === 'maintenance');
    expect(maintenance(plan).map((s) => s.args['on'])).toEqual(['on']);
    expect(maintenance(down).map((s) => s.args['on'])).toEqual([false]);
  });
});

describe('down: explicit', () => {
  it('compiles the given list from 1.1.0 to 1.0.0', () => {
    const { down } = compile(
      relupYaml(
        '  - update: chat\n  - add: presence\n  - remove: legacy',
        'down:\n  - remove: presence\n  - update: chat\n    extra: { reason: rollback }\n  - add: legacy\n  - info: back\n',
      ),
    );
    expect(ops(down.after)).toEqual([
      'point_of_no_return',
      'suspend_acceptors',
      'suspend_channels',
      'stop_service presence',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
      'start_service legacy',
      'info',
      'resume_channels',
      'resume_acceptors',
    ]);
    expect(down.after.find((s) => s.op === 'code_change')?.args).toMatchObject({
      direction: 'down',
      extra: { reason: 'rollback' },
    });
    expect(down.after.find((s) => s.op === 'start_service')?.args).toEqual({ version: '0.9.0' });
  });

  it('must cover the way back too', () => {
    const err = relupError(() =>
      compile(
        relupYaml('  - update: chat\n  - add: presence\n  - remove: legacy', 'down:\n  - remove: presence\n'),
      ),
    );
    expect(err.code).toBe('UNCOVERED_CHANGE');
    expect(err.message).toMatch(/^down plan/);
    expect(err.details).toMatchObject({ services: ['chat', 'legacy'] });
  });
});
