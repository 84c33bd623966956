import { describe, expect, it } from 'vitest';
import { BUILTIN_INSTRUCTIONS } from '../../src/relup/builtins.ts';
import type { Instruction, Plan, Step, StepContext } from '../../src/relup/instruction.ts';
import { apply } from '../../src/relup/instructions/apply.ts';
import { sleep } from '../../src/relup/instructions/sleep.ts';
import { suspend } from '../../src/relup/instructions/suspend.ts';
import { suspendChannels } from '../../src/relup/instructions/suspend-channels.ts';
import { createRegistry } from '../../src/relup/registry.ts';
import { makeStep } from '../../src/relup/step.ts';
import { compile, RecordingRuntime, relupYaml } from './compile-fixtures.ts';

const registry = createRegistry();
const { plan, down } = compile(
  relupYaml(
    [
      '  - update: chat',
      '    extra: { defaultTopic: general }',
      '  - add: presence',
      '  - remove: legacy',
      '  - apply: { module: migrations/backfill.ts, args: { batch: 10 }, down: migrations/unbackfill.ts }',
      '  - info: hello',
      '  - sleep: 1ms',
    ].join('\n'),
    'options: { suspendTimeout: 3s }',
  ),
);

const instructionOf = (step: Step): Instruction => {
  const def = registry.getInstruction(step.op);
  if (!def) throw new Error(`no instruction ${step.op}`);
  return def;
};
const contextOf = (step: Step, runtime: RecordingRuntime, p: Plan = plan): StepContext => ({
  step,
  plan: p,
  runtime,
  signal: new AbortController().signal,
});

describe('instruction files', () => {
  it.each(BUILTIN_INSTRUCTIONS.map((def) => [def.name, def] as const))(
    '%s lives in instructions/<kebab-name>.ts as its only export',
    async (name, def) => {
      const mod = await import(`../../src/relup/instructions/${name.replaceAll('_', '-')}.ts`);
      expect(Object.values(mod)).toEqual([def]);
      expect(def.description.length).toBeGreaterThan(0);
    },
  );
});

describe('running a compiled plan against the runtime', () => {
  it('calls the runtime in plan order', async () => {
    const runtime = new RecordingRuntime();
    const results = [];
    for (const step of [...plan.before, ...plan.after])
      results.push((await instructionOf(step).run(contextOf(step, runtime))).result);
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(runtime.calls).toEqual([
      'checkAcceptors',
      'checkChannels',
      'loadObjectCode chat 2.1.0',
      'preflightCodeChange chat up 2.0.0->2.1.0',
      'loadObjectCode presence 0.1.0',
      'suspendAcceptors',
      'suspendChannels 3000',
      'suspendService chat 3000',
      'switchCode chat 2.1.0',
      'codeChange chat up 2.0.0->2.1.0 {"defaultTopic":"general"}',
      'resumeService chat',
      'startService presence 0.1.0',
      'stopService legacy',
      'apply migrations/backfill.ts up {"batch":10}',
      'resumeChannels',
      'resumeAcceptors',
    ]);
    expect(runtime.logs).toEqual(['point of no return', 'hello']);
    expect(runtime.serviceVersion('chat')).toBe('2.1.0');
  });

  it('undoes completed steps in reverse', async () => {
    const runtime = new RecordingRuntime();
    for (const step of [...plan.before, ...plan.after].reverse())
      await instructionOf(step).undo?.(contextOf(step, runtime));
    expect(runtime.calls).toEqual([
      'suspendAcceptors',
      'suspendChannels 3000',
      'apply migrations/unbackfill.ts down {"batch":10}',
      'startService legacy 0.9.0',
      'stopService presence',
      'suspendService chat 3000',
      'codeChange chat down 2.1.0->2.0.0 {"defaultTopic":"general"}',
      'switchCode chat 2.0.0',
      'resumeService chat',
      'resumeChannels',
      'resumeAcceptors',
      'unloadObjectCode presence 0.1.0',
      'unloadObjectCode chat 2.1.0',
    ]);
  });

  it('runs the down plan with the down direction', async () => {
    const runtime = new RecordingRuntime();
    for (const step of [...down.before, ...down.after])
      await instructionOf(step).run(contextOf(step, runtime, down));
    expect(runtime.calls).toContain('apply migrations/unbackfill.ts down {"batch":10}');
    expect(runtime.calls).toContain('codeChange chat down 2.1.0->2.0.0 {"defaultTopic":"general"}');
    expect(runtime.calls).toContain('switchCode chat 2.0.0');
  });
});

describe('suspensions', () => {
  const channels = makeStep({ op: 'suspend_channels', args: { timeoutMs: 250 }, origin: 'standard' });
  const service = makeStep({ op: 'suspend', target: 'chat', args: { timeoutMs: 250 }, origin: 'up[0]' });

  it('returns the bulk result when every actor suspended', async () => {
    const runtime = new RecordingRuntime();
    expect(await suspendChannels.run(contextOf(channels, runtime))).toEqual({
      result: 'ok',
      bulk: { result: 'ok', count: 3 },
    });
  });

  it('fails on a timeout with the failures, after resuming what did suspend', async () => {
    const runtime = new RecordingRuntime();
    const failures = [{ id: 'ses-1', reason: 'message in flight did not finish within 250 ms' }];
    runtime.bulk = { result: 'errors', count: 1, failures };
    await expect(suspendChannels.run(contextOf(channels, runtime))).rejects.toMatchObject({
      code: 'SUSPEND_TIMEOUT',
      details: { count: 1, failures },
    });
    expect(runtime.calls).toEqual(['suspendChannels 250', 'resumeChannels']);
    await expect(suspend.run(contextOf(service, runtime))).rejects.toMatchObject({ code: 'SUSPEND_TIMEOUT' });
    expect(runtime.calls.slice(2)).toEqual(['suspendService chat 250', 'resumeService chat']);
  });

  it('warns and goes on when the channels cannot be suspended', async () => {
    const runtime = new RecordingRuntime();
    runtime.bulk = { result: 'not_supported', ids: ['ses-2'] };
    await expect(suspendChannels.run(contextOf(channels, runtime))).resolves.toMatchObject({
      result: 'warning',
      detail: '1 of the channels cannot be suspended',
      bulk: { result: 'not_supported', ids: ['ses-2'] },
    });
  });

  it('reports a failed clean-up along with the timeout', async () => {
    const runtime = new RecordingRuntime();
    runtime.bulk = { result: 'errors', count: 1, failures: [{ id: 'x', reason: 'slow' }] };
    runtime.resumeChannels = async () => {
      throw new Error('resume broke');
    };
    await expect(suspendChannels.run(contextOf(channels, runtime))).rejects.toMatchObject({
      code: 'SUSPEND_TIMEOUT',
      details: { resumeError: 'ACTOR_FAILED: resume broke' },
    });
  });
});

describe('apply', () => {
  const step = (priority: 'high' | 'low', down?: string) =>
    makeStep({
      op: 'apply',
      key: 'm.ts',
      args: { module: 'm.ts', priority, args: {}, ...(down ? { down } : {}) },
      origin: 'up[3]',
    });

  it('fails the upgrade when a high priority script throws', async () => {
    const runtime = new RecordingRuntime();
    runtime.failing.add('m.ts');
    await expect(apply.run(contextOf(step('high'), runtime))).rejects.toThrow('m.ts broke');
  });

  it('logs and warns when a low priority script throws', async () => {
    const runtime = new RecordingRuntime();
    runtime.failing.add('m.ts');
    expect(await apply.run(contextOf(step('low'), runtime))).toEqual({
      result: 'warning',
      detail: 'ACTOR_FAILED: m.ts broke',
    });
    expect(runtime.logs).toEqual(['low priority apply m.ts failed; going on']);
  });

  it('is undone by its down module, or says it cannot be', async () => {
    const runtime = new RecordingRuntime();
    await apply.undo?.(contextOf(step('high', 'm-down.ts'), runtime));
    await apply.undo?.(contextOf(step('high'), runtime));
    expect(runtime.calls).toEqual(['apply m-down.ts down {}']);
    expect(runtime.logs).toEqual(['apply m.ts has no down module; its effects stay']);
    expect(apply.inverse?.(step('high'), plan)).toBeNull();
  });
});

describe('sleep', () => {
  it('waits for its duration and stops when the upgrade is cancelled', async () => {
    const runtime = new RecordingRuntime();
    const step = makeStep({ op: 'sleep', args: { duration: '20ms' }, origin: 'up[0]' });
    const started = Date.now();
    await sleep.run(contextOf(step, runtime));
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    const cancel = new AbortController();
    const long = makeStep({ op: 'sleep', args: { duration: '1h' }, origin: 'up[0]' });
    const running = sleep.run({ step: long, plan, runtime, signal: cancel.signal });
    cancel.abort();
    await expect(running).rejects.toThrow();
  });
});

describe('inverse', () => {
  const shape = (s: Step | null | undefined) => s && { op: s.op, target: s.target, args: s.args };
  const reversible = [...plan.before, ...plan.after].filter(
    (s) => !['info', 'point_of_no_return'].includes(s.op),
  );

  it('pairs each reversible step with its opposite (an added service needs no code on the way down)', () => {
    const inverseOps = Object.fromEntries(
      reversible.map((s) => [s.id, instructionOf(s).inverse?.(s, plan)?.op]),
    );
    expect(inverseOps).toEqual({
      check_acceptors: 'check_acceptors',
      check_channels: 'check_channels',
      'load_object_code:chat': 'load_object_code',
      'preflight_code_change:chat': 'preflight_code_change',
      'load_object_code:presence': undefined,
      suspend_acceptors: 'resume_acceptors',
      suspend_channels: 'resume_channels',
      'suspend:chat': 'resume',
      'load:chat': 'load',
      'code_change:chat': 'code_change',
      'resume:chat': 'suspend',
      'start_service:presence': 'stop_service',
      'stop_service:legacy': 'start_service',
      'apply:migrations/backfill.ts': 'apply',
      sleep: 'sleep',
      resume_channels: 'suspend_channels',
      resume_acceptors: 'suspend_acceptors',
    });
  });

  it('gives the step back when applied twice', () => {
    for (const step of reversible) {
      const inverse = instructionOf(step).inverse?.(step, plan);
      if (!inverse) continue;
      expect(shape(instructionOf(inverse).inverse?.(inverse, down)), step.id).toEqual(shape(step));
    }
  });
});
