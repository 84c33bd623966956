import { RelupError } from '../errors.ts';
import { DEFAULT_SUSPEND_TIMEOUT_MS } from './duration.ts';
import type { Step } from './instruction.ts';
import type { CodeChangeRequest } from './runtime.ts';
import { makeStep } from './step.ts';

/** Problems for arguments an instruction does not know (typos surface at compile time). */
export function unknownArgs(step: Step, known: readonly string[]): string[] {
  return Object.keys(step.args)
    .filter((k) => !known.includes(k))
    .map((k) => `unknown argument "${k}" of ${step.op}`);
}

/** Problems when the step names no service. */
export function needsTarget(step: Step): string[] {
  return typeof step.target === 'string' && step.target.length > 0
    ? []
    : [`${step.op} needs a target service`];
}

/** Problems when a string argument is missing (or, with `optional`, present but not a string). */
export function needsString(step: Step, key: string, optional = false): string[] {
  const value = step.args[key];
  if (optional && value === undefined) return [];
  return typeof value === 'string' && value.length > 0 ? [] : [`${step.op} needs a string argument "${key}"`];
}

/** Problems when `timeoutMs` is present but not a non-negative number. */
export function optionalTimeout(step: Step): string[] {
  const value = step.args['timeoutMs'];
  return value === undefined || (typeof value === 'number' && value >= 0)
    ? []
    : [`timeoutMs of ${step.op} must be a non-negative number of milliseconds`];
}

/** The step's service; a plan reaching the runtime without one was built by hand, wrongly. */
export function targetOf(step: Step): string {
  if (step.target === undefined) throw new RelupError('PLAN_INVALID', `${step.id} has no target service`);
  return step.target;
}

/** A string argument the instruction's validate already required. */
export function stringArg(step: Step, key: string): string {
  const value = step.args[key];
  if (typeof value !== 'string')
    throw new RelupError('PLAN_INVALID', `${step.id} has no string argument "${key}"`);
  return value;
}

/** The deadline of a timed suspension (also used to re-suspend when a resume is undone). */
export function timeoutOf(step: Step): number {
  const value = step.args['timeoutMs'];
  return typeof value === 'number' ? value : DEFAULT_SUSPEND_TIMEOUT_MS;
}

/** Problems of the arguments shared by code_change and preflight_code_change. */
export function codeChangeProblems(step: Step): string[] {
  const direction = step.args['direction'];
  const extra = step.args['extra'];
  return [
    ...needsTarget(step),
    ...unknownArgs(step, ['direction', 'from', 'to', 'extra']),
    ...(direction === 'up' || direction === 'down' ? [] : [`${step.op} needs direction "up" or "down"`]),
    ...needsString(step, 'from'),
    ...needsString(step, 'to'),
    ...(extra === undefined || isRecord(extra) ? [] : [`extra of ${step.op} must be a mapping`]),
  ];
}

/** The runtime request a code_change-like step describes. */
export function codeChangeRequest(step: Step): CodeChangeRequest {
  const extra = step.args['extra'];
  return {
    direction: step.args['direction'] === 'down' ? 'down' : 'up',
    from: stringArg(step, 'from'),
    to: stringArg(step, 'to'),
    extra: isRecord(extra) ? extra : {},
  };
}

/** The migration that reverses a code_change-like step. */
export function reversedCodeChange(step: Step): CodeChangeRequest {
  const req = codeChangeRequest(step);
  return { direction: req.direction === 'up' ? 'down' : 'up', from: req.to, to: req.from, extra: req.extra };
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The same code change the other way (from and to swapped, direction reversed): the inverse of code_change and its pre-flight. */
export function invertCodeChange(step: Step): Step {
  return makeStep({
    op: step.op,
    target: targetOf(step),
    args: { ...reversedCodeChange(step) },
    origin: step.origin,
  });
}
