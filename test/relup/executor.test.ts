import { describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { RelupError } from '../../src/errors.ts';
import { runUpgrade, UpgradeLock } from '../../src/relup/executor.ts';
import { executorMachine } from '../../src/relup/executor-machine.ts';
import type { Instruction, Plan, Step, StepContext, StepOutcome } from '../../src/relup/instruction.ts';
import type { JournalWriter } from '../../src/relup/journal.ts';
import type { UpgradeRuntime } from '../../src/relup/runtime.ts';
import type { UpgradeEvent, UpgradeProgress } from '../../src/relup/upgrade-report.ts';

/** A node in memory: what is suspended, loaded and running, every call in order, and failures on demand. */
function fakeNode() {
  const calls: string[] = [];
  const failing = new Map<string, Error>();
  const suspended = new Set<string>();
  const prepared = new Set<string>();
  const versions = new Map([['room', '1.0.0']]);
  const call = async (name: string) => {
    calls.push(name);
    const err = failing.get(name);
    if (err) throw err;
  };
  const ok = { result: 'ok' as const, count: 1 };
  const runtime: UpgradeRuntime = {
    checkAcceptors: () => call('checkAcceptors'),
    checkChannels: () => call('checkChannels'),
    suspendAcceptors: async () => {
      await call('suspendAcceptors');
      suspended.add('acceptors');
    },
    resumeAcceptors: async () => {
      await call('resumeAcceptors');
      suspended.delete('acceptors');
    },
    suspendChannels: async () => {
      await call('suspendChannels');
      suspended.add('channels');
      return ok;
    },
    resumeChannels: async () => {
      await call('resumeChannels');
      suspended.delete('channels');
    },
    loadObjectCode: async (s, v) => {
      await call(`loadObjectCode ${s}@${v}`);
      prepared.add(`${s}@${v}`);
    },
    unloadObjectCode: async (s, v) => {
      await call(`unloadObjectCode ${s}@${v}`);
      prepared.delete(`${s}@${v}`);
    },
    suspendService: async (s) => {
      await call(`suspendService ${s}`);
      suspended.add(s);
      return ok;
    },
    resumeService: async (s) => {
      await call(`resumeService ${s}`);
      suspended.delete(s);
    },
    switchCode: async (s, v) => {
      await call(`switchCode ${s}@${v}`);
      versions.set(s, v);
    },
    codeChange: (s, req) => call(`codeChange ${s} ${req.direction}`),
    preflightCodeChange: (s) => call(`preflightCodeChange ${s}`),
    startService: (s, v) => call(`startService ${s}@${v}`),
    stopService: (s) => call(`stopService ${s}`),
    switchOver: (s) => call(`switchOver ${s}`).then(() => false),
    apply: (m, _args, direction) => call(`apply ${m} ${direction}`),
    barrier: async () => {},
    notifyClients: async () => 0,
    grace: async () => {},
    disconnectClients: async () => 0,
    maintenance: async () => {},
    serviceVersion: (s) => versions.get(s),
    log: () => {},
  };
  return { runtime, calls, failing, suspended, prepared, versions };
}

type Body = (ctx: StepContext) => Promise<unknown>;

/** The pause declarations of the built-ins these fakes stand for. */
const PAUSES: Record<string, Instruction['pause']> = {
  suspend_acceptors: 'starts',
  suspend_channels: 'starts',
  suspend: 'starts',
  resume_acceptors: 'ends',
  resume_channels: 'ends',
  resume: 'ends',
};

function instruction(name: string, kind: string, run: Body, undo?: Body): Instruction {
  const effects = ({ check: 'none', effect: 'node' } as Record<string, Instruction['effects']>)[kind];
  const pause = PAUSES[name];
  return {
    name,
    description: name,
    effects: effects ?? (kind as Instruction['effects']),
    ...(pause && { pause }),
    validate: () => [],
    async run(ctx) {
      await run(ctx);
      return { result: 'ok' };
    },
    ...(undo && {
      async undo(ctx: StepContext) {
        await undo(ctx);
      },
    }),
  };
}

const target = ({ step }: StepContext) => step.target ?? '';
const version = ({ step }: StepContext) => String(step.args['version']);

/** Like a low priority apply: a failing script is a warning, not a failure. */
const apply: Instruction = {
  ...instruction('apply', 'effect', async () => {}),
  async run({ step, plan, runtime }): Promise<StepOutcome> {
    try {
      await runtime.apply(String(step.args['module']), {}, plan.direction);
      return { result: 'ok' };
    } catch (err) {
      return { result: 'warning', detail: (err as Error).message };
    }
  },
};

const instructions = new Map<string, Instruction>(
  [
    instruction('check_acceptors', 'check', (c) => c.runtime.checkAcceptors()),
    instruction('check_channels', 'check', (c) => c.runtime.checkChannels()),
    instruction(
      'load_object_code',
      'prepare',
      (c) => c.runtime.loadObjectCode(target(c), version(c)),
      (c) => c.runtime.unloadObjectCode(target(c), version(c)),
    ),
    instruction('point_of_no_return', 'marker', async () => {}),
    instruction(
      'suspend_acceptors',
      'effect',
      (c) => c.runtime.suspendAcceptors(),
      (c) => c.runtime.resumeAcceptors(),
    ),
    instruction(
      'suspend',
      'effect',
      (c) => c.runtime.suspendService(target(c), 1000),
      (c) => c.runtime.resumeService(target(c)),
    ),
    instruction(
      'load',
      'effect',
      (c) => c.runtime.switchCode(target(c), version(c)),
      (c) => c.runtime.switchCode(target(c), c.plan.from),
    ),
    instruction(
      'code_change',
      'effect',
      (c) =>
        c.runtime.codeChange(target(c), { direction: 'up', from: c.plan.from, to: c.plan.to, extra: {} }),
      (c) =>
        c.runtime.codeChange(target(c), { direction: 'down', from: c.plan.to, to: c.plan.from, extra: {} }),
    ),
    instruction(
      'resume',
      'effect',
      (c) => c.runtime.resumeService(target(c)),
      (c) => c.runtime.suspendService(target(c), 1000),
    ),
    instruction(
      'resume_acceptors',
      'effect',
      (c) => c.runtime.resumeAcceptors(),
      (c) => c.runtime.suspendAcceptors(),
    ),
    apply,
  ].map((i) => [i.name, i]),
);
const lookup = (op: string) => instructions.get(op);

function step(op: string, target?: string, args: Record<string, unknown> = {}): Step {
  return { id: target ? `${op}:${target}` : op, op, ...(target && { target }), args, origin: 'test' };
}

/** The standard shape of an update of `room` 1.0.0 → 1.1.0. */
function roomPlan(): Plan {
  return {
    release: 'chat',
    from: '1.0.0',
    to: '1.1.0',
    direction: 'up',
    before: [
      step('check_acceptors'),
      step('check_channels'),
      step('load_object_code', 'room', { version: '1.1.0' }),
    ],
    after: [
      step('point_of_no_return'),
      step('suspend_acceptors'),
      step('suspend', 'room'),
      step('load', 'room', { version: '1.1.0' }),
      step('code_change', 'room'),
      step('resume', 'room'),
      step('resume_acceptors'),
    ],
  };
}

async function run(
  plan: Plan,
  node = fakeNode(),
  extra: { signal?: AbortSignal; journal?: JournalWriter; checkOnly?: boolean } = {},
) {
  const events: UpgradeEvent[] = [];
  const report = await runUpgrade({
    id: 'u1',
    plan,
    instructions: lookup,
    runtime: node.runtime,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  const states = events.filter((e) => e.type === 'state').map((e) => e.state);
  return { report, events, states, node };
}

describe('executor', () => {
  it('runs a plan through the states in order and reports done with the pause', async () => {
    const { report, states, node } = await run(roomPlan());
    expect(states).toEqual(['checking', 'committed', 'suspending', 'upgrading', 'resuming', 'done']);
    expect(report).toMatchObject({
      id: 'u1',
      release: 'chat',
      from: '1.0.0',
      to: '1.1.0',
      direction: 'up',
      outcome: 'done',
      passedPonr: true,
    });
    expect(report.error).toBeUndefined();
    expect(report.steps.map((s) => [s.id, s.phase, s.result])).toEqual([
      ['check_acceptors', 'before', 'ok'],
      ['check_channels', 'before', 'ok'],
      ['load_object_code:room', 'before', 'ok'],
      ['point_of_no_return', 'after', 'ok'],
      ['suspend_acceptors', 'after', 'ok'],
      ['suspend:room', 'after', 'ok'],
      ['load:room', 'after', 'ok'],
      ['code_change:room', 'after', 'ok'],
      ['resume:room', 'after', 'ok'],
      ['resume_acceptors', 'after', 'ok'],
    ]);
    expect(report.pauseMs).toBeGreaterThanOrEqual(0);
    expect(report.pauseMs).toBeLessThanOrEqual(report.durationMs);
    expect(Date.parse(report.endedAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
    expect(node.versions.get('room')).toBe('1.1.0');
    expect(node.suspended.size).toBe(0);
  });

  it('reads the pause from the instruction, not its name: a user suspend_logging starts no pause clock', async () => {
    const suspendLogging = instruction('suspend_logging', 'effect', async () => {});
    const plan: Plan = {
      ...roomPlan(),
      after: [
        step('point_of_no_return'),
        step('suspend_logging'),
        step('load', 'room', { version: '1.1.0' }),
      ],
    };
    const events: UpgradeEvent[] = [];
    const report = await runUpgrade({
      id: 'u-logging',
      plan,
      instructions: (op) => (op === 'suspend_logging' ? suspendLogging : lookup(op)),
      runtime: fakeNode().runtime,
      onEvent: (e) => events.push(e),
    });
    expect(report.outcome).toBe('done');
    expect(report.pauseMs).toBeUndefined();
    const started = events.find((e) => e.type === 'step_started' && e.step === 'suspend_logging');
    expect(started?.state).toBe('upgrading');
    expect(events.filter((e) => e.type === 'state').map((e) => e.state)).not.toContain('suspending');
  });

  it('shows the operator state as the top level of the machine snapshot', async () => {
    const plan = roomPlan();
    const steps = [
      ...plan.before.map((s) => ({ step: s, phase: 'before' as const, instruction: lookup(s.op)! })),
      ...plan.after.map((s) => ({ step: s, phase: 'after' as const, instruction: lookup(s.op)! })),
    ];
    const input = {
      id: 'u0',
      plan,
      steps,
      runtime: fakeNode().runtime,
      signal: new AbortController().signal,
    };
    const actor = createActor(executorMachine, { input: { ...input, startedAt: new Date().toISOString() } });
    const seen: string[] = [];
    actor.subscribe((snap) => {
      const top = typeof snap.value === 'string' ? snap.value : Object.keys(snap.value)[0]!;
      if (seen.at(-1) !== top) seen.push(top);
    });
    const report = await toPromise(actor.start());
    expect(seen).toEqual(['checking', 'committed', 'suspending', 'upgrading', 'resuming', 'done']);
    expect(report.outcome).toBe('done');
  });

  it('emits every step event in order, each with the state that ran it', async () => {
    const plan: Plan = {
      ...roomPlan(),
      before: [step('check_acceptors')],
      after: [step('point_of_no_return')],
    };
    const { events } = await run(plan);
    expect(events.map((e) => [e.type, e.step ?? '', e.state])).toEqual([
      ['state', '', 'checking'],
      ['step_started', 'check_acceptors', 'checking'],
      ['step_completed', 'check_acceptors', 'checking'],
      ['step_started', 'point_of_no_return', 'checking'],
      ['step_completed', 'point_of_no_return', 'checking'],
      ['state', '', 'committed'],
      ['state', '', 'done'],
    ]);
    expect(events.every((e) => e.upgrade === 'u1' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    expect(events.filter((e) => e.type === 'step_completed').every((e) => e.durationMs !== undefined)).toBe(
      true,
    );
  });

  it('undoes the completed checks in reverse when a check before the point of no return fails', async () => {
    const node = fakeNode();
    node.failing.set('checkChannels', new RelupError('UNKNOWN_SERVICE', 'no channels registry'));
    const plan: Plan = {
      ...roomPlan(),
      before: [
        step('load_object_code', 'room', { version: '1.1.0' }),
        step('check_acceptors'),
        step('load_object_code', 'presence', { version: '1.0.0' }),
        step('check_channels'),
        step('load_object_code', 'lobby', { version: '1.0.0' }),
      ],
    };
    const { report, states, events } = await run(plan, node);
    expect(node.calls).toEqual([
      'loadObjectCode room@1.1.0',
      'checkAcceptors',
      'loadObjectCode presence@1.0.0',
      'checkChannels',
      'unloadObjectCode presence@1.0.0',
      'unloadObjectCode room@1.1.0',
    ]);
    expect(node.prepared.size).toBe(0);
    expect(states).toEqual(['checking', 'aborting', 'aborted']);
    expect(report.outcome).toBe('aborted');
    expect(report.passedPonr).toBe(false);
    expect(report.pauseMs).toBeUndefined();
    expect(report.error).toMatchObject({
      code: 'UNKNOWN_SERVICE',
      details: {
        step: 'check_channels',
        error: { code: 'UNKNOWN_SERVICE', message: 'no channels registry' },
      },
    });
    expect(report.steps.map((s) => [s.id, s.result, s.undone ?? false])).toEqual([
      ['load_object_code:room', 'ok', true],
      ['check_acceptors', 'ok', false],
      ['load_object_code:presence', 'ok', true],
      ['check_channels', 'failed', false],
    ]);
    expect(events.filter((e) => e.type === 'step_undone').map((e) => e.step)).toEqual([
      'load_object_code:presence',
      'load_object_code:room',
    ]);
  });

  it('check-only: runs the steps before the point of no return, then undoes them through its own undo state', async () => {
    const node = fakeNode();
    const plan: Plan = {
      ...roomPlan(),
      before: [
        step('load_object_code', 'room', { version: '1.1.0' }),
        step('check_acceptors'),
        step('check_channels'),
      ],
    };
    const { report, states, events } = await run(plan, node, { checkOnly: true });
    // Nothing after the point of no return runs, and what loaded is unloaded again.
    expect(node.calls).toEqual([
      'loadObjectCode room@1.1.0',
      'checkAcceptors',
      'checkChannels',
      'unloadObjectCode room@1.1.0',
    ]);
    expect(node.prepared.size).toBe(0);
    expect(states).toEqual(['checking', 'undoing_checks', 'done']);
    expect(report).toMatchObject({ outcome: 'done', passedPonr: false });
    expect(report.steps.map((s) => [s.id, s.result, s.undone ?? false])).toEqual([
      ['load_object_code:room', 'ok', true],
      ['check_acceptors', 'ok', false],
      ['check_channels', 'ok', false],
    ]);
    expect(events.filter((e) => e.type === 'step_undone')).toMatchObject([
      { step: 'load_object_code:room', state: 'undoing_checks' },
    ]);
  });

  it('check-only: an undo that fails ends `failed` with ROLLBACK_FAILED naming it', async () => {
    const node = fakeNode();
    node.failing.set('unloadObjectCode room@1.1.0', new Error('still referenced'));
    const plan: Plan = { ...roomPlan(), before: [step('load_object_code', 'room', { version: '1.1.0' })] };
    const { report } = await run(plan, node, { checkOnly: true });
    expect(report.outcome).toBe('failed');
    expect(report.error).toMatchObject({
      code: 'ROLLBACK_FAILED',
      message: 'undo of load_object_code:room failed after the checks passed: still referenced',
    });
  });

  it('aborts when the point of no return itself fails, with STEP_FAILED for an error without a code', async () => {
    const plan: Plan = { ...roomPlan(), after: [step('point_of_no_return'), step('suspend_acceptors')] };
    const failingPonr = instruction('point_of_no_return', 'marker', async () => {
      throw new TypeError('boom');
    });
    const node = fakeNode();
    const report = await runUpgrade({
      id: 'u2',
      plan,
      instructions: (op) => (op === 'point_of_no_return' ? failingPonr : lookup(op)),
      runtime: node.runtime,
    });
    expect(report.outcome).toBe('aborted');
    expect(report.error).toMatchObject({ code: 'STEP_FAILED', message: 'point_of_no_return: boom' });
    expect(node.calls).toEqual([
      'checkAcceptors',
      'checkChannels',
      'loadObjectCode room@1.1.0',
      'unloadObjectCode room@1.1.0',
    ]);
  });

  it('rolls back after the point of no return: load undone, suspended things resumed', async () => {
    const node = fakeNode();
    node.failing.set('codeChange room up', new Error('migration threw'));
    const { report, states } = await run(roomPlan(), node);
    expect(states).toEqual([
      'checking',
      'committed',
      'suspending',
      'upgrading',
      'rolling_back',
      'rolled_back',
    ]);
    expect(report.outcome).toBe('rolled_back');
    expect(report.error).toMatchObject({ code: 'STEP_FAILED', details: { step: 'code_change:room' } });
    expect(node.calls.slice(node.calls.indexOf('codeChange room up') + 1)).toEqual([
      'switchCode room@1.0.0',
      'resumeService room',
      'resumeAcceptors',
      'unloadObjectCode room@1.1.0',
    ]);
    expect(node.versions.get('room')).toBe('1.0.0');
    expect(node.suspended.size).toBe(0);
    expect(node.prepared.size).toBe(0);
    expect(report.pauseMs).toBeGreaterThanOrEqual(0);
  });

  it('fails with the incident when an undo fails, and undoes nothing after it', async () => {
    const node = fakeNode();
    node.failing.set('codeChange room up', new RelupError('SWAP_FAILED', 'bad snapshot'));
    node.failing.set('switchCode room@1.0.0', new Error('old code gone'));
    const { report, states, events } = await run(roomPlan(), node);
    expect(states.slice(-2)).toEqual(['rolling_back', 'failed']);
    expect(report.outcome).toBe('failed');
    expect(report.error).toEqual({
      code: 'ROLLBACK_FAILED',
      message: 'undo of load:room failed after code_change:room failed: old code gone',
      details: {
        step: 'code_change:room',
        error: { code: 'SWAP_FAILED', message: 'bad snapshot' },
        undo: { step: 'load:room', error: { code: 'STEP_FAILED', message: 'old code gone' } },
      },
    });
    expect(node.calls.at(-1)).toBe('switchCode room@1.0.0');
    expect(node.suspended).toEqual(new Set(['acceptors', 'room']));
    expect(report.pauseMs).toBeUndefined();
    expect(events.at(-1)).toMatchObject({
      type: 'state',
      state: 'failed',
      error: { code: 'ROLLBACK_FAILED' },
    });
  });

  it('journals a warning step and goes on', async () => {
    const node = fakeNode();
    node.failing.set('apply migrations/backfill.js up', new Error('backfill failed'));
    const plan = roomPlan();
    plan.after.push({
      ...step('apply', undefined, { module: 'migrations/backfill.js', priority: 'low' }),
      id: 'apply:migrations/backfill.js',
    });
    const { report, events } = await run(plan, node);
    expect(report.outcome).toBe('done');
    expect(report.steps.at(-1)).toMatchObject({
      id: 'apply:migrations/backfill.js',
      result: 'warning',
      detail: 'backfill failed',
    });
    expect(
      events.find((e) => e.type === 'step_completed' && e.step === 'apply:migrations/backfill.js'),
    ).toMatchObject({ result: 'warning', state: 'upgrading' });
  });

  it('refuses an unknown op before anything runs', async () => {
    const node = fakeNode();
    const plan = roomPlan();
    plan.after.splice(2, 0, step('teleport', 'room'));
    const events: UpgradeEvent[] = [];
    await expect(
      runUpgrade({
        id: 'u3',
        plan,
        instructions: lookup,
        runtime: node.runtime,
        onEvent: (e) => events.push(e),
      }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_INSTRUCTION',
      details: { steps: [{ step: 'teleport:room', op: 'teleport' }] },
    });
    expect(node.calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('stops at a cancellation, keeps the reason code and undoes with a signal of its own', async () => {
    const node = fakeNode();
    const cancel = new AbortController();
    const undoSignals: boolean[] = [];
    const plan: Plan = {
      ...roomPlan(),
      before: [step('load_object_code', 'room', { version: '1.1.0' }), step('check_acceptors')],
    };
    const cancelling = instruction(
      'load_object_code',
      'prepare',
      async () => cancel.abort(new RelupError('TIMEOUT', 'upgrade deadline passed')),
      async ({ signal }) => undoSignals.push(signal.aborted),
    );
    const report = await runUpgrade({
      id: 'u4',
      plan,
      instructions: (op) => (op === 'load_object_code' ? cancelling : lookup(op)),
      runtime: node.runtime,
      signal: cancel.signal,
    });
    expect(report.outcome).toBe('aborted');
    expect(report.error).toMatchObject({ code: 'TIMEOUT', details: { step: 'check_acceptors' } });
    expect(node.calls).toEqual([]);
    expect(undoSignals).toEqual([false]);
  });

  it('writes the journal before each step runs and aborts when it cannot commit', async () => {
    const node = fakeNode();
    const written: UpgradeProgress[] = [];
    const journal: JournalWriter = {
      begin: async (p) => {
        written.push(p);
      },
      step: async (p) => {
        if (p.state === 'committed') throw new RelupError('STORE_FAILED', 'journal down');
        written.push(p);
      },
      end: async () => {},
    };
    const { report, states } = await run(roomPlan(), node, { journal });
    expect(
      written.map((p) => [p.state, p.passedPonr, p.steps.at(-1)?.id ?? '', p.steps.at(-1)?.result ?? '']),
    ).toEqual([
      ['checking', false, '', ''],
      ['checking', false, 'check_acceptors', 'running'],
      ['checking', false, 'check_channels', 'running'],
      ['checking', false, 'load_object_code:room', 'running'],
      ['checking', false, 'point_of_no_return', 'running'],
      ['aborting', false, 'point_of_no_return', 'ok'],
    ]);
    expect(states).toEqual(['checking', 'committed', 'aborting', 'aborted']);
    expect(report).toMatchObject({ outcome: 'aborted', passedPonr: false, error: { code: 'STORE_FAILED' } });
    expect(node.calls.at(-1)).toBe('unloadObjectCode room@1.1.0');
    expect(node.suspended.size).toBe(0);
  });
});

describe('upgrade lock', () => {
  it('admits one upgrade at a time and names the one running', () => {
    const lock = new UpgradeLock();
    lock.acquire('a');
    expect(() => lock.acquire('b')).toThrow(
      expect.objectContaining({ code: 'BUSY', details: { running: 'a', refused: 'b' } }),
    );
    lock.release('b');
    expect(lock.running).toBe('a');
    lock.release('a');
    lock.acquire('b');
    expect(lock.running).toBe('b');
  });
});
