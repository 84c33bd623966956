import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../src/relup/check.ts';
import { DEFAULT_SUSPEND_TIMEOUT_MS } from '../../src/relup/duration.ts';
import { createRegistry } from '../../src/relup/registry.ts';
import type { StageContext } from '../../src/relup/stage-context.ts';
import { makeStep } from '../../src/relup/step.ts';
import { compile, relupError, relupYaml, sha, v100, v101, v110 } from './compile-fixtures.ts';

const sameCode = (up: string, rest = '') => relupYaml(up, rest, '1.0.0', '1.0.1');
const problemsOf = (fn: () => unknown): string[] => {
  const err = relupError(fn);
  expect(err.code).toBe('PLAN_INVALID');
  return (err.details as { problems: string[] }).problems;
};

describe('plan checks', () => {
  it('refuses two points of no return', () => {
    const problems = problemsOf(() =>
      compile(sameCode('  - point_of_no_return:\n  - info: between\n  - point_of_no_return:'), { to: v101 }),
    );
    expect(problems).toEqual(['a plan needs exactly one point_of_no_return, found 2 (up[0], up[2])']);
  });

  it('refuses an effect before the point of no return', () => {
    const problems = problemsOf(() =>
      compile(sameCode('  - { op: disconnect_clients, args: { reason: early } }\n  - point_of_no_return:'), {
        to: v101,
      }),
    );
    expect(problems).toEqual([
      'disconnect_clients (up[0]) has effects but stands before the point of no return',
    ]);
  });

  it('refuses a suspension that is never resumed', () => {
    const problems = problemsOf(() =>
      compile(
        sameCode(
          '  - check_acceptors:\n  - suspend: chat\n  - suspend_acceptors:',
          'options: { modifications: [] }',
        ),
        {
          to: v101,
        },
      ),
    );
    expect(problems).toEqual([
      'suspend:chat (up[1]) is never resumed: no resume:chat after it',
      'suspend_acceptors (up[2]) is never resumed: no resume_acceptors after it',
    ]);
  });

  it('accepts a suspension resumed later, even written by hand', () => {
    const { plan } = compile(sameCode('  - suspend: chat\n  - info: suspended\n  - resume: chat'), {
      to: v101,
    });
    expect(plan.after.map((s) => s.id).slice(3, 6)).toEqual(['suspend:chat', 'info', 'resume:chat']);
  });

  it('refuses a load not prepared by load_object_code, and steps their instruction rejects', () => {
    const ctx: StageContext = {
      release: 'chat',
      direction: 'up',
      from: v100,
      to: v110,
      options: { suspendTimeoutMs: DEFAULT_SUSPEND_TIMEOUT_MS, modifications: [], pairs: 'switch_over' },
      registry: createRegistry(),
    };
    const after = [
      makeStep({ op: 'point_of_no_return', origin: 'up' }),
      makeStep({ op: 'load', target: 'chat', args: { version: '1.1.0', from: '1.0.0' }, origin: 'up[0]' }),
      makeStep({ op: 'load_object_code', target: 'chat', args: { version: '1.1.0' }, origin: 'up[1]' }),
      makeStep({ op: 'teleport', origin: 'mine' }),
      makeStep({ op: 'sleep', args: { duration: 'a while' }, origin: 'mine' }),
    ];
    expect(() => checkPlan({ before: [], after }, ctx)).toThrowError(
      expect.objectContaining({
        code: 'PLAN_INVALID',
        details: {
          problems: [
            'teleport (mine): unknown instruction teleport',
            'sleep (mine): bad duration "a while" (use e.g. 250ms, 5s, 2m, or a number of ms)',
            'load:chat (up[0]) is not preceded by load_object_code:chat',
          ],
        },
      }),
    );
    expect(() => checkPlan({ before: [], after: after.slice(1, 3) }, ctx)).toThrowError(
      /exactly one point_of_no_return, found 0/,
    );
  });
});

describe('suspend_channels (placed as the SuspendChannels instruction says)', () => {
  const bare = (up: string) => sameCode(up, 'options: { modifications: [] }');

  it('needs check_acceptors and check_channels before it', () => {
    const noAcceptorCheck = relupError(() =>
      compile(
        bare('  - check_channels:\n  - point_of_no_return:\n  - suspend_channels:\n  - resume_channels:'),
        {
          to: v101,
        },
      ),
    );
    expect(noAcceptorCheck.code).toBe('PLAN_MISSING_DEPENDENCY');
    expect(noAcceptorCheck.message).toContain('check_acceptors');
    const noChannelCheck = relupError(() =>
      compile(
        bare('  - check_acceptors:\n  - point_of_no_return:\n  - suspend_channels:\n  - resume_channels:'),
        {
          to: v101,
        },
      ),
    );
    expect(noChannelCheck.code).toBe('PLAN_MISSING_DEPENDENCY');
    expect(noChannelCheck.message).toContain('check_channels');
  });

  it('refuses a service start or stop, or a code load, after the point of no return and before it', () => {
    // Ordering by `after` already puts them behind suspend_channels; this rule guards plans
    // whatever produced their order.
    const ctx: StageContext = {
      release: 'chat',
      direction: 'up',
      from: v100,
      to: v110,
      options: { suspendTimeoutMs: DEFAULT_SUSPEND_TIMEOUT_MS, modifications: [], pairs: 'switch_over' },
      registry: createRegistry(),
    };
    const step = (op: string, target?: string, args: Record<string, unknown> = {}) =>
      makeStep({ op, ...(target && { target }), args, origin: 'up' });
    const after = [
      step('point_of_no_return'),
      step('stop_service', 'legacy', { version: '1.0.0' }),
      step('suspend_channels'),
      step('start_service', 'presence', { version: '1.1.0' }),
      step('resume_channels'),
    ];
    expect(() =>
      checkPlan({ before: [step('load_object_code', 'presence', { version: '1.1.0' })], after }, ctx),
    ).toThrowError(
      expect.objectContaining({
        code: 'PLAN_INVALID',
        details: {
          problems: [
            'stop_service:legacy (up) stops or starts a service or loads code between the point of no return and suspend_channels',
          ],
        },
      }),
    );
  });
});

describe('coverage', () => {
  it('refuses a relup that leaves a changed service out', () => {
    const err = relupError(() => compile(relupYaml('  - add: presence\n  - remove: legacy')));
    expect(err.code).toBe('UNCOVERED_CHANGE');
    expect(err.details).toMatchObject({ services: ['chat'] });
    expect(err.message).toContain('chat: version 2.0.0 → 2.1.0, module services/chat.ts changed (sha256)');
  });

  it('sees a changed module even when the version stayed', () => {
    const patched = { ...v101, files: { ...v101.files, 'services/legacy.ts': sha('e') } };
    const err = relupError(() => compile(sameCode('  - info: nothing to do'), { to: patched }));
    expect(err.details).toMatchObject({
      uncovered: [
        {
          service: 'legacy',
          reason: 'module services/legacy.ts changed (sha256) but never loaded (update it)',
        },
      ],
    });
    const { plan } = compile(sameCode('  - update: legacy'), { to: patched });
    expect(plan.after.some((s) => s.id === 'code_change:legacy')).toBe(true);
  });

  it('wants new services added and gone ones removed', () => {
    const err = relupError(() => compile(relupYaml('  - update: chat')));
    expect(err.details).toMatchObject({ services: ['presence', 'legacy'] });
  });
});
