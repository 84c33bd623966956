import {
  type DoneActorEvent,
  type DoneStateEvent,
  type ErrorActorEvent,
  enqueueActions,
  fromPromise,
  setup,
} from 'xstate';
import { renderError, toRelupError } from '../errors.ts';
import type { Instruction, Plan, Step, StepContext, StepOutcome } from './instruction.ts';
import type { JournalWriter } from './journal.ts';
import type { UpgradeRuntime } from './runtime.ts';
import { PONR_OP } from './step.ts';
import {
  type StepReport,
  UPGRADE_STATES,
  type UpgradeError,
  type UpgradeEvent,
  type UpgradeOutcome,
  type UpgradeProgress,
  type UpgradeReport,
  type UpgradeState,
} from './upgrade-report.ts';

// The op name is the language's contract; the executor does not import the compiler for it.

/** A step of a plan with its instruction, resolved before anything runs. */
export interface PlannedStep {
  step: Step;
  phase: 'before' | 'after';
  instruction: Instruction;
}

/** What the executor machine runs: a plan resolved against the instructions, on a node. */
export interface ExecutorInput {
  id: string;
  plan: Plan;
  steps: PlannedStep[];
  runtime: UpgradeRuntime;
  /** Cancels the forward steps; undos never see it, so a cancelled upgrade still undoes what it did. */
  signal: AbortSignal;
  journal?: JournalWriter;
  /** ISO 8601, the same the journal's `begin` recorded. */
  startedAt: string;
  /** Runs the steps before the point of no return, then undoes them all (`undoing_checks`). */
  checkOnly?: boolean;
}

type PhaseState = 'checking' | 'suspending' | 'upgrading' | 'resuming';

interface ExecutorContext extends ExecutorInput {
  /** The next step to run; `records[i]` reports `steps[i]`. */
  next: number;
  records: StepReport[];
  passedPonr: boolean;
  /** Indices of the completed steps still to undo, the next one first. */
  undo: number[];
  error?: UpgradeError;
  // performance.now() marks: durations must not jump with the wall clock.
  t0: number;
  stepT0: number;
  pauseStart?: number;
  pauseEnd?: number;
}

interface StepInput {
  planned: PlannedStep;
  ctx: StepContext;
  progress: UpgradeProgress;
  journal?: JournalWriter;
}

/** The states a run passes when nothing fails, in order. */
const FORWARD = UPGRADE_STATES.slice(0, UPGRADE_STATES.indexOf('done') + 1);

const now = () => performance.now();
const ms = (from: number, to = now()) => Math.round((to - from) * 1000) / 1000;
/** Whether a planned step starts the pause clients see (its instruction says so, not its name). */
const startsPause = (p: PlannedStep | undefined) => p?.instruction.pause === 'starts';
/** Whether a planned step ends the pause clients see. */
const endsPause = (p: PlannedStep | undefined) => p?.instruction.pause === 'ends';

/** The state that shows a step after the point of no return, by its instruction's pause declaration. */
function phaseOf(p: PlannedStep): PhaseState {
  if (startsPause(p)) return 'suspending';
  if (endsPause(p)) return 'resuming';
  return 'upgrading';
}

/** Where the machine goes once `from` has finished a step (or, for `committed`, the commit). */
function nextState(c: ExecutorContext, from: PhaseState | 'committed'): UpgradeState {
  if (from === 'checking' && c.passedPonr) return 'committed';
  const planned = c.steps[c.next];
  if (!planned) return c.checkOnly ? 'undoing_checks' : 'done';
  return c.passedPonr ? phaseOf(planned) : 'checking';
}

/** The journal's view of an upgrade in a state. */
export function progressOf(
  c: Pick<ExecutorContext, 'id' | 'plan' | 'passedPonr' | 'records' | 'error' | 'startedAt'>,
  state: UpgradeState,
): UpgradeProgress {
  const { release, from, to, direction } = c.plan;
  return {
    id: c.id,
    release,
    from,
    to,
    direction,
    state,
    passedPonr: c.passedPonr,
    steps: c.records,
    ...(c.error && { error: c.error }),
    startedAt: c.startedAt,
  };
}

function reportOf(c: ExecutorContext, outcome: UpgradeOutcome): UpgradeReport {
  const { state: _, ...progress } = progressOf(c, outcome);
  const pause =
    c.pauseStart !== undefined && c.pauseEnd !== undefined && c.pauseEnd >= c.pauseStart
      ? { pauseMs: ms(c.pauseStart, c.pauseEnd) }
      : {};
  return { ...progress, outcome, endedAt: new Date().toISOString(), durationMs: ms(c.t0), ...pause };
}

/** The completed steps to undo, last first; a skipped step did nothing, so undoing it would do harm. */
function undoOrder(c: ExecutorContext, records: StepReport[]): number[] {
  return records
    .flatMap((r, i) =>
      (r.result === 'ok' || r.result === 'warning') && c.steps[i]?.instruction.undo ? [i] : [],
    )
    .reverse();
}

function stepEvent(
  c: ExecutorContext,
  type: UpgradeEvent['type'],
  state: UpgradeState,
  record: StepReport,
): UpgradeEvent {
  return {
    upgrade: c.id,
    type,
    step: record.id,
    state,
    at: new Date().toISOString(),
    ...(type === 'step_started' ? {} : { durationMs: record.durationMs }),
    ...(type === 'step_completed' && { result: record.result }),
    // A bulk suspension's count, so a progress display shows channels suspended exactly.
    ...(type === 'step_completed' && record.bulk && { bulk: record.bulk }),
    ...(record.error && { error: record.error }),
  };
}

function planned(c: ExecutorContext, index: number): PlannedStep {
  const p = c.steps[index];
  if (!p) throw new Error(`executor: no step ${index}`);
  return p;
}

/**
 * The executor of a plan as an xstate machine. Top-level states are what an operator sees;
 * each step is an invoked promise actor. Before the point of no return a failure undoes the
 * completed steps in reverse (`aborted`); after it, the same undo is a rollback (`rolled_back`);
 * a failing undo stops there (`failed`), since further undos would act on a state nobody planned for.
 * The failed step itself is not undone: an instruction that fails leaves nothing behind (a
 * partial bulk suspension resumes what it suspended).
 */
export const executorMachine = setup({
  types: {
    input: {} as ExecutorInput,
    context: {} as ExecutorContext,
    emitted: {} as UpgradeEvent,
    output: {} as UpgradeReport,
  },
  actors: {
    runStep: fromPromise<StepOutcome, StepInput>(async ({ input }) => {
      input.ctx.signal.throwIfAborted();
      // Journaled before it runs, so a node that dies mid-step knows which step was in flight.
      // Before the point of no return the write is awaited; after it (the commit already
      // recorded that effects may have happened) writes are pipelined in order, so the pause
      // does not wait for the store once per step. A failed write is logged, not fatal.
      const write = input.journal?.step(input.progress);
      if (input.progress.passedPonr)
        write?.catch((err: unknown) =>
          input.ctx.runtime.log('upgrade journal write failed; the upgrade goes on', {
            error: renderError(err),
          }),
        );
      else await write;
      return input.planned.instruction.run(input.ctx);
    }),
    undoStep: fromPromise<void, StepInput>(async ({ input }) => {
      // A journal outage must not stop an undo: the node is better off undone than journaled.
      await input.journal?.step(input.progress).catch((err) =>
        input.ctx.runtime.log('upgrade journal write failed during undo; undoing on', {
          error: renderError(err),
        }),
      );
      await input.planned.instruction.undo?.(input.ctx);
    }),
    commit: fromPromise<void, { progress: UpgradeProgress; journal?: JournalWriter }>(async ({ input }) => {
      await input.journal?.step(input.progress);
    }),
  },
  guards: {
    goesTo: ({ context }, { from, to }: { from: PhaseState | 'committed'; to: UpgradeState }) =>
      nextState(context, from) === to,
    passedPonr: ({ context }) => context.passedPonr,
    undoneAll: ({ context }) => context.undo.length === 0,
  },
  actions: {
    announce: enqueueActions(({ context, enqueue }, { state }: { state: UpgradeState }) => {
      enqueue.emit({
        upgrade: context.id,
        type: 'state',
        state,
        // The plan's size, so a progress display can show "7/13 steps".
        total: context.steps.length,
        // The whole plan once, at the start, so a display can list the steps before they run.
        ...(state === 'checking' && {
          from: context.plan.from,
          to: context.plan.to,
          plan: context.steps.map(({ step, phase }) => ({ id: step.id, op: step.op, phase })),
        }),
        at: new Date().toISOString(),
        ...(context.error && { error: context.error }),
      });
    }),
    startStep: enqueueActions(({ context, enqueue }, { state }: { state: PhaseState }) => {
      const current = planned(context, context.next);
      const { step, phase } = current;
      const record: StepReport = {
        id: step.id,
        op: step.op,
        ...(step.target !== undefined && { target: step.target }),
        phase,
        result: 'running',
        durationMs: 0,
      };
      const t = now();
      enqueue.assign({
        records: [...context.records, record],
        stepT0: t,
        pauseStart: context.pauseStart ?? (startsPause(current) ? t : undefined),
      });
      enqueue.emit(stepEvent(context, 'step_started', state, record));
    }),
    completeStep: enqueueActions(({ context, event, enqueue }, { state }: { state: PhaseState }) => {
      const { output } = event as DoneActorEvent<StepOutcome>;
      const current = planned(context, context.next);
      const { step } = current;
      const t = now();
      const record: StepReport = {
        ...(context.records[context.next] as StepReport),
        result: output.result,
        durationMs: ms(context.stepT0, t),
        ...(output.detail !== undefined && { detail: output.detail }),
        ...(output.bulk && { bulk: output.bulk }),
      };
      enqueue.assign({
        records: context.records.with(context.next, record),
        next: context.next + 1,
        passedPonr: context.passedPonr || step.op === PONR_OP,
        pauseEnd: endsPause(current) ? t : context.pauseEnd,
      });
      enqueue.emit(stepEvent(context, 'step_completed', state, record));
    }),
    failStep: enqueueActions(({ context, event, enqueue }, { state }: { state: PhaseState }) => {
      const err = toRelupError((event as ErrorActorEvent).error, 'STEP_FAILED');
      const error = err.toJSON();
      const record: StepReport = {
        ...(context.records[context.next] as StepReport),
        result: 'failed',
        durationMs: ms(context.stepT0),
        error,
      };
      const records = context.records.with(context.next, record);
      enqueue.assign({
        records,
        undo: undoOrder(context, records),
        error: {
          code: err.code,
          message: `${record.id}: ${err.message}`,
          details: { step: record.id, error },
        },
      });
      enqueue.emit(stepEvent(context, 'step_failed', state, record));
    }),
    failCommit: enqueueActions(({ context, event, enqueue }) => {
      const err = toRelupError((event as ErrorActorEvent).error, 'STEP_FAILED');
      const ponr = planned(context, context.next - 1).step.id;
      // Nothing after the marker ran and the journal never learnt it passed: this is an abort.
      enqueue.assign({
        passedPonr: false,
        undo: undoOrder(context, context.records),
        error: {
          code: err.code,
          message: `${ponr}: cannot journal the point of no return: ${err.message}`,
          details: { step: ponr, error: err.toJSON() },
        },
      });
    }),
    undoChecks: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ undo: undoOrder(context, context.records) });
    }),
    startUndo: enqueueActions(({ enqueue }) => {
      enqueue.assign({ stepT0: now() });
    }),
    completeUndo: enqueueActions(({ context, enqueue }, { state }: { state: UpgradeState }) => {
      const [index = -1, ...rest] = context.undo;
      const t = now();
      const record: StepReport = { ...(context.records[index] as StepReport), undone: true };
      enqueue.assign({
        records: context.records.with(index, record),
        undo: rest,
        pauseEnd: startsPause(context.steps[index]) ? t : context.pauseEnd,
      });
      enqueue.emit({
        ...stepEvent(context, 'step_undone', state, record),
        durationMs: ms(context.stepT0, t),
      });
    }),
    failUndo: enqueueActions(({ context, event, enqueue }) => {
      const err = toRelupError((event as ErrorActorEvent).error, 'STEP_FAILED');
      const undone = planned(context, context.undo[0] ?? -1).step.id;
      const cause = context.error?.details;
      const after = cause ? `${cause.step} failed` : 'the checks passed';
      enqueue.assign({
        error: {
          code: 'ROLLBACK_FAILED',
          message: `undo of ${undone} failed after ${after}: ${err.message}`,
          details: {
            ...(cause ?? { step: undone, error: err.toJSON() }),
            undo: { step: undone, error: err.toJSON() },
          },
        },
      });
    }),
  },
}).createMachine({
  id: 'executor',
  context: ({ input }) => ({
    ...input,
    next: 0,
    records: [],
    passedPonr: false,
    undo: [],
    t0: now(),
    stepT0: 0,
  }),
  initial: 'checking',
  output: ({ event }) => (event as DoneStateEvent<UpgradeReport>).output,
  states: {
    checking: phase('checking'),
    undoing_checks: undoing('undoing_checks', 'done'),
    committed: {
      entry: { type: 'announce', params: { state: 'committed' } },
      invoke: {
        src: 'commit',
        input: ({ context }) => ({
          progress: progressOf(context, 'committed'),
          ...(context.journal && { journal: context.journal }),
        }),
        onDone: routes('committed'),
        onError: { target: 'aborting', actions: 'failCommit' },
      },
    },
    suspending: phase('suspending'),
    upgrading: phase('upgrading'),
    resuming: phase('resuming'),
    done: final('done'),
    aborting: undoing('aborting', 'aborted'),
    aborted: final('aborted'),
    rolling_back: undoing('rolling_back', 'rolled_back'),
    rolled_back: final('rolled_back'),
    failed: final('failed'),
  },
});

function routes(from: PhaseState | 'committed') {
  return FORWARD.filter((to) => to !== 'committed' || from === 'checking').map((to) => ({
    guard: { type: 'goesTo' as const, params: { from, to } },
    target: to === from ? 'step' : `#executor.${to}`,
  }));
}

function stepInput(c: ExecutorContext, index: number, state: UpgradeState, signal: AbortSignal): StepInput {
  const p = planned(c, index);
  return {
    planned: p,
    ctx: { step: p.step, plan: c.plan, runtime: c.runtime, signal },
    progress: progressOf(c, state),
    ...(c.journal && { journal: c.journal }),
  };
}

function phase(state: PhaseState) {
  return {
    entry: { type: 'announce' as const, params: { state } },
    initial: 'next' as const,
    states: {
      next: { always: routes(state) },
      step: {
        entry: { type: 'startStep' as const, params: { state } },
        invoke: {
          src: 'runStep' as const,
          input: ({ context }: { context: ExecutorContext }) =>
            stepInput(context, context.next, state, context.signal),
          onDone: { target: 'next', actions: { type: 'completeStep' as const, params: { state } } },
          onError: [
            {
              guard: 'passedPonr' as const,
              target: '#executor.rolling_back',
              actions: { type: 'failStep' as const, params: { state } },
            },
            { target: '#executor.aborting', actions: { type: 'failStep' as const, params: { state } } },
          ],
        },
      },
    },
  };
}

function undoing(
  state: 'aborting' | 'rolling_back' | 'undoing_checks',
  end: 'aborted' | 'rolled_back' | 'done',
) {
  const announce = { type: 'announce' as const, params: { state } };
  return {
    // A failure planned its undo already; a check that passed undoes every step it ran.
    entry: state === 'undoing_checks' ? [announce, 'undoChecks' as const] : announce,
    initial: 'next' as const,
    states: {
      next: { always: [{ guard: 'undoneAll' as const, target: `#executor.${end}` }, { target: 'undo' }] },
      undo: {
        entry: 'startUndo' as const,
        invoke: {
          src: 'undoStep' as const,
          // Undos get a signal of their own: the cancellation that caused them must not stop them.
          input: ({ context }: { context: ExecutorContext }) =>
            stepInput(context, context.undo[0] ?? -1, state, new AbortController().signal),
          onDone: { target: 'next', actions: { type: 'completeUndo' as const, params: { state } } },
          onError: { target: '#executor.failed', actions: 'failUndo' as const },
        },
      },
    },
  };
}

function final(outcome: UpgradeOutcome) {
  return {
    type: 'final' as const,
    entry: { type: 'announce' as const, params: { state: outcome } },
    output: ({ context }: { context: ExecutorContext }) => reportOf(context, outcome),
  };
}
