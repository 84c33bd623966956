import { describe, expect, it } from 'vitest';
import type { Instruction } from '../../src/relup/instruction.ts';
import { insertSteps } from '../../src/relup/plan-parts.ts';
import { createRegistry } from '../../src/relup/registry.ts';
import { makeStep } from '../../src/relup/step.ts';
import { compile, ops, planOps, relupError, relupYaml, v100, v101 } from './compile-fixtures.ts';

/** A user instruction with no behaviour of interest here: only its placement is under test. */
const userInstruction = (
  name: string,
  deps: Partial<Pick<Instruction, 'requires' | 'after'>>,
): Instruction => ({
  name,
  description: `test instruction ${name}`,
  effects: 'node',
  validate: () => [],
  run: async () => ({ result: 'ok' }),
  ...deps,
});

const changes = '  - update: chat\n  - add: presence\n  - remove: legacy';

describe('ordering', () => {
  it('places a user instruction by its requires, whatever its place in the file', () => {
    const registry = createRegistry().instruction(
      userInstruction('warm_cache', { requires: (s) => [{ op: 'code_change', target: s.target ?? '' }] }),
    );
    const { plan } = compile(relupYaml(`  - warm_cache: chat\n${changes}`), { registry });
    expect(ops(plan.after).slice(3, 8)).toEqual([
      'suspend chat',
      'load chat',
      'code_change chat',
      'warm_cache chat',
      'resume chat',
    ]);
  });

  it('places a step a user modification adds by its after', () => {
    const registry = createRegistry()
      .instruction(userInstruction('page_oncall', { after: () => [{ op: 'resume_channels' }] }))
      .modification('notify', (parts, ctx) =>
        insertSteps(parts, 'after_point_of_no_return', [makeStep({ op: 'page_oncall', origin: ctx.origin })]),
      );
    const { plan } = compile(relupYaml(changes, 'options: { modifications: [standard, notify] }'), {
      registry,
    });
    expect(ops(plan.after).slice(-3)).toEqual(['resume_channels', 'page_oncall', 'resume_acceptors']);
    expect(plan.after.find((s) => s.op === 'page_oncall')?.origin).toBe('notify');
  });

  it('keeps file order where nothing constrains it', () => {
    const { plan } = compile(
      relupYaml(
        '  - apply: { module: m/3.ts }\n  - remove: legacy\n  - apply: { module: m/1.ts }\n  - add: presence\n  - update: chat',
        'options: { modifications: [] }',
      ),
    );
    expect(ops(plan.after)).toEqual([
      'point_of_no_return',
      'apply',
      'stop_service legacy',
      'apply',
      'start_service presence',
      'suspend chat',
      'load chat',
      'code_change chat',
      'resume chat',
    ]);
    expect(plan.after[1]?.id).toBe('apply:m/3.ts');
  });

  it('reports a cycle with its path', () => {
    const registry = createRegistry()
      .instruction(userInstruction('step_a', { after: () => [{ op: 'step_c' }] }))
      .instruction(userInstruction('step_b', { after: () => [{ op: 'step_a' }] }))
      .instruction(userInstruction('step_c', { after: () => [{ op: 'step_b' }] }));
    const source = relupYaml('  - step_a:\n  - step_b:\n  - step_c:', '', '1.0.0', '1.0.1');
    const err = relupError(() => compile(source, { to: v101, registry }));
    expect(err.code).toBe('PLAN_CYCLE');
    expect(err.message).toContain('step_a -> step_b -> step_c -> step_a');
    expect(err.details).toEqual({ cycle: ['step_a', 'step_b', 'step_c', 'step_a'] });
  });

  it('reports the cycle only, not the steps that merely wait on it', () => {
    const registry = createRegistry()
      .instruction(userInstruction('waiter', { after: () => [{ op: 'ping' }] }))
      .instruction(userInstruction('ping', { after: () => [{ op: 'pong' }] }))
      .instruction(userInstruction('pong', { after: () => [{ op: 'ping' }] }));
    const source = relupYaml('  - waiter:\n  - ping:\n  - pong:', '', '1.0.0', '1.0.1');
    const err = relupError(() => compile(source, { to: v101, registry }));
    expect(err.details).toEqual({ cycle: ['ping', 'pong', 'ping'] });
  });

  it('reports a missing dependency naming the step and what it lacks', () => {
    const registry = createRegistry().instruction(
      userInstruction('reindex', { requires: (s) => [{ op: 'load', target: s.target ?? '' }] }),
    );
    const source = relupYaml('  - reindex: chat', '', '1.0.0', '1.0.1');
    const err = relupError(() => compile(source, { to: v101, registry }));
    expect(err.code).toBe('PLAN_MISSING_DEPENDENCY');
    expect(err.details).toEqual({ missing: [{ step: 'reindex:chat', requires: 'load:chat' }] });
    expect(err.message).toContain('reindex:chat requires load:chat');
  });

  it('reports every missing dependency of the built-ins at once', () => {
    const source = relupYaml(
      '  - resume_channels:\n  - resume_acceptors:',
      'options: { modifications: [] }',
      '1.0.0',
      '1.0.1',
    );
    const err = relupError(() => compile(source, { to: v101 }));
    expect(err.details).toEqual({
      missing: [
        { step: 'resume_channels', requires: 'suspend_channels' },
        { step: 'resume_acceptors', requires: 'suspend_acceptors' },
      ],
    });
  });

  it('refuses a step before the point of no return that must follow one after it', () => {
    const registry = createRegistry().instruction({
      ...userInstruction('late_check', { after: () => [{ op: 'resume_acceptors' }] }),
      effects: 'none',
    });
    const err = relupError(() =>
      compile(relupYaml('  - late_check:', '', '1.0.0', '1.0.1'), { from: v100, to: v101, registry }),
    );
    expect(err.code).toBe('PLAN_INVALID');
    expect(err.message).toContain(
      'late_check must follow resume_acceptors, which is after the point of no return',
    );
  });
});

describe('registry', () => {
  it('holds the built-ins and refuses a second instruction or modification of a name', () => {
    const registry = createRegistry();
    expect(registry.instructionNames()).toHaveLength(23);
    expect(registry.modificationNames()).toEqual(['standard']);
    expect(() => registry.instruction(userInstruction('suspend', {}))).toThrowError(
      expect.objectContaining({ code: 'BAD_INSTRUCTION' }),
    );
    expect(() => registry.instruction(userInstruction('Bad-Name', {}))).toThrowError(/snake_case/);
    expect(() => registry.modification('standard', (p) => p)).toThrowError(
      expect.objectContaining({
        code: 'DUPLICATE_NAME',
        message: expect.stringMatching(/already registered/),
      }),
    );
  });

  it('keeps registries apart', () => {
    createRegistry().instruction(userInstruction('mine', {}));
    expect(createRegistry().getInstruction('mine')).toBeUndefined();
    expect(planOps(compile(relupYaml('  - info: hi', '', '1.0.0', '1.0.1'), { to: v101 }).plan)).toContain(
      'info',
    );
  });
});
