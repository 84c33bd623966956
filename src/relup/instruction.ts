import type { BulkResult } from '../actors/bulk-result.ts';
import type { UpgradeRuntime } from './runtime.ts';

/** One low-level instruction in a compiled plan. */
export interface Step {
  /** Unique within a plan, e.g. `suspend:chat` or `apply:migrations/backfill.js`. */
  id: string;
  /** The instruction name, e.g. `suspend_channels`. */
  op: string;
  /** The service the step acts on, when it acts on one. */
  target?: string;
  /** JSON arguments, validated by the instruction. */
  args: Record<string, unknown>;
  /** Where the step came from: a path in the relup file (`up[2]`) or a modification (`standard`). */
  origin: string;
}

/** A compiled relup: the steps before the point of no return (no effects) and after it. */
export interface Plan {
  release: string;
  from: string;
  to: string;
  direction: 'up' | 'down';
  /** Checks and preparation: undone exactly on failure. */
  before: Step[];
  /** Effects, starting with point_of_no_return: rolled back through the down path on failure. */
  after: Step[];
}

/** Where a modification inserts an instruction. */
export type InsertWhere =
  /** among the checks, before the point of no return */
  | 'before_point_of_no_return'
  /** right after the point of no return, before any code is loaded or process touched */
  | 'after_point_of_no_return'
  /** at the end of the plan */
  | 'at_end';

/** A dependency of a step: an instruction name, optionally for one target (`suspend:chat`). */
export interface Selector {
  op: string;
  target?: string;
}

/** What a step's run returns: a short result for the journal and report. */
export interface StepOutcome {
  result: 'ok' | 'skipped' | 'warning';
  detail?: unknown;
  bulk?: BulkResult;
}

/** What an instruction gets when it runs or is undone. */
export interface StepContext {
  step: Step;
  plan: Plan;
  runtime: UpgradeRuntime;
  /** Aborted when the upgrade is cancelled or its overall deadline passes. */
  signal: AbortSignal;
}

/** Where compile stages look instructions up (a `Registry` is one). */
export interface InstructionLookup {
  getInstruction(name: string): Instruction | undefined;
  instructionNames(): string[];
}

/**
 * An instruction of the relup language: one file each in `relup/instructions/`. It declares
 * where it may stand, what it depends on, how it runs, and how it is undone.
 */
export interface Instruction {
  name: string;
  /** One line for `relupctl plan` and the README. */
  description: string;
  /**
   * What running it changes: `none` (checks, logs, waits: may stand before the point of no
   * return), `prepare` (undoable preparation, before it too), `marker` (the point of no return
   * itself), `node` (effects on the node: only after it).
   */
  effects: 'none' | 'prepare' | 'marker' | 'node';
  /**
   * Whether it starts or ends the pause clients see (`starts`: the first such step starts the
   * measured pause; `ends`: the pause ends with the last). The executor reads only this, never the name.
   */
  pause?: 'starts' | 'ends';
  /** Where the standard modification inserts it, when it inserts it. */
  insertWhere?: InsertWhere;
  /**
   * The argument a relup file's shorthand `- <name>: value` sets (`info: text` → `message`);
   * without it, a string value names the target and a mapping gives the arguments.
   */
  shorthandArg?: string;
  /** Validates a step's arguments; returns the problems (empty when fine). */
  validate(step: Step): string[];
  /** Steps that must exist in the plan and come before this one (a missing one is an error). */
  requires?(step: Step): Selector[];
  /** Steps that, when present, must come before this one. */
  after?(step: Step): Selector[];
  run(ctx: StepContext): Promise<StepOutcome>;
  /** Reverses a completed run; absent when there is nothing to undo (checks, markers). */
  undo?(ctx: StepContext): Promise<void>;
  /** The step of the down path that reverses this one, for automatic down plans; null when none. */
  inverse?(step: Step, plan: Plan): Step | null;
}
