import type { BulkResult } from '../actors/bulk-result.ts';
import type { ErrorBody, ErrorCode } from '../errors.ts';
import type { StepOutcome } from './instruction.ts';

/** The states of an upgrade, as an operator sees them, in the order a successful upgrade passes them. */
export const UPGRADE_STATES = [
  'checking',
  // A check-only run undoes its passed checks here, then ends `done`.
  'undoing_checks',
  'committed',
  'suspending',
  'upgrading',
  'resuming',
  'done',
  'aborting',
  'aborted',
  'rolling_back',
  'rolled_back',
  'failed',
] as const;

/** A state of an upgrade. */
export type UpgradeState = (typeof UPGRADE_STATES)[number];

/** How an upgrade ended: `aborted` left the node as it was, `failed` needs maintenance mode. */
export type UpgradeOutcome = 'done' | 'aborted' | 'rolled_back' | 'failed';

/** One step as it ran; `running` appears only in the journal, for the step in flight. */
export interface StepReport {
  id: string;
  op: string;
  target?: string;
  phase: 'before' | 'after';
  result: StepOutcome['result'] | 'failed' | 'running';
  durationMs: number;
  detail?: unknown;
  bulk?: BulkResult;
  error?: ErrorBody;
  /** The step's undo ran after a later step failed. */
  undone?: true;
}

/** Why an upgrade did not finish: the failing step and, when the rollback failed too, the failing undo. */
export interface UpgradeError {
  code: ErrorCode;
  message: string;
  details: { step: string; error: ErrorBody; undo?: { step: string; error: ErrorBody } };
}

/** An upgrade in flight: what the journal holds after every step. */
export interface UpgradeProgress {
  id: string;
  release: string;
  from: string;
  to: string;
  direction: 'up' | 'down';
  state: UpgradeState;
  /** Effects may have happened: a node that dies now must not trust its running code. */
  passedPonr: boolean;
  steps: StepReport[];
  error?: UpgradeError;
  /** ISO 8601. */
  startedAt: string;
}

/** A finished upgrade. */
export interface UpgradeReport extends Omit<UpgradeProgress, 'state'> {
  outcome: UpgradeOutcome;
  /** ISO 8601. */
  endedAt: string;
  durationMs: number;
  /** From the start of the first suspend step to the end of the last resume: the pause clients saw. */
  pauseMs?: number;
}

/** One progress event of an upgrade, in the order things happened. */
export interface UpgradeEvent {
  upgrade: string;
  type: 'step_started' | 'step_completed' | 'step_failed' | 'step_undone' | 'state';
  /** The step id, for step events. */
  step?: string;
  state: UpgradeState;
  /** ISO 8601. */
  at: string;
  durationMs?: number;
  /** The number of steps in the plan (state events). */
  total?: number;
  /** The plan's steps in order (the `checking` state event), the point of no return among them. */
  plan?: { id: string; op: string; phase: 'before' | 'after' }[];
  /** The releases the upgrade moves between (the `checking` state event). */
  from?: string;
  to?: string;
  /** The result of a bulk suspension (step_completed of suspend_channels / suspend). */
  bulk?: BulkResult;
  /** The result of a completed step (`warning` shows here). */
  result?: StepReport['result'];
  error?: ErrorBody;
}
