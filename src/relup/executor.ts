import { createActor, toPromise } from 'xstate';
import { RelupError, renderError } from '../errors.ts';
import { retryStore } from '../nats/store-retry.ts';
import { type ExecutorInput, executorMachine, type PlannedStep, progressOf } from './executor-machine.ts';
import type { Instruction, Plan } from './instruction.ts';
import type { JournalWriter } from './journal.ts';
import type { UpgradeRuntime } from './runtime.ts';
import type { UpgradeEvent, UpgradeReport } from './upgrade-report.ts';

export { UpgradeLock } from './executor-lock.ts';
export type { UpgradeEvent, UpgradeReport } from './upgrade-report.ts';

/** What {@link runUpgrade} needs. */
export interface UpgradeOptions {
  /** A subject-safe id, unique per node: it names the journal key and tags every event. */
  id: string;
  plan: Plan;
  /** Resolves an op to its instruction (the registry). */
  instructions: (op: string) => Instruction | undefined;
  runtime: UpgradeRuntime;
  /** Where every step is recorded before it runs. */
  journal?: JournalWriter;
  onEvent?: (e: UpgradeEvent) => void;
  /** Cancels the upgrade: the running step sees it, completed steps are undone. A RelupError reason keeps its code. */
  signal?: AbortSignal;
  /** Runs only the plan's steps before the point of no return, then undoes them (see executorMachine). */
  checkOnly?: boolean;
}

/**
 * Runs a plan on a node and reports how it ended. A failure is undone through each completed
 * step's `undo`, in reverse, rather than through a down plan: undo reverses exactly what ran,
 * while a down plan written for a complete upgrade would also "reverse" steps that never ran.
 * Rejects only when nothing ran: an unknown op (UNKNOWN_INSTRUCTION) or a journal that cannot begin.
 */
export async function runUpgrade(opts: UpgradeOptions): Promise<UpgradeReport> {
  const { id, plan, runtime, journal } = opts;
  const input: ExecutorInput = {
    id,
    plan,
    // Every op is resolved (a check reports an unknown one too), but a check never runs the
    // steps from the point of no return on.
    steps: resolve(plan, opts.instructions).filter((p) => !opts.checkOnly || p.phase === 'before'),
    runtime,
    signal: opts.signal ?? new AbortController().signal,
    ...(journal && { journal }),
    startedAt: new Date().toISOString(),
    ...(opts.checkOnly && { checkOnly: true }),
  };
  await journal?.begin(progressOf({ ...input, passedPonr: false, records: [] }, 'checking'));
  const actor = createActor(executorMachine, { input });
  actor.on('*', (event) => {
    try {
      opts.onEvent?.(event);
    } catch (err) {
      runtime.log('an upgrade event listener threw', { upgrade: id, error: renderError(err) });
    }
  });
  const report = await toPromise(actor.start());
  // The outcome stands even when the journal cannot record it (retried through a leader election
  // or a server restart; past that, the next boot sees a stale active key).
  await (journal ? retryStore(() => journal.end(report)) : undefined)?.catch((err) =>
    runtime.log('upgrade journal: cannot record the end', { upgrade: id, error: renderError(err) }),
  );
  return report;
}

function resolve(plan: Plan, instructions: UpgradeOptions['instructions']): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const unknown: { step: string; op: string }[] = [];
  for (const [phase, list] of [
    ['before', plan.before],
    ['after', plan.after],
  ] as const)
    for (const step of list) {
      const instruction = instructions(step.op);
      if (instruction) steps.push({ step, phase, instruction });
      else unknown.push({ step: step.id, op: step.op });
    }
  if (unknown.length > 0)
    throw new RelupError(
      'UNKNOWN_INSTRUCTION',
      `unknown instruction${unknown.length > 1 ? 's' : ''} ${[...new Set(unknown.map((u) => u.op))].join(', ')}; nothing ran`,
      { steps: unknown },
    );
  return steps;
}
