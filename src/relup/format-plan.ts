import type { Plan, Step } from './instruction.ts';
import { PONR_OP } from './step.ts';

const MARKER = '── point of no return ──';

const argText = ([key, value]: [string, unknown]) =>
  `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;

const isEmpty = (value: unknown) =>
  typeof value === 'object' && value !== null && Object.keys(value as object).length === 0;

/** One step as `op target key=value …`, empty mappings left out. */
function stepText(step: Step): string {
  if (step.op === PONR_OP) return MARKER;
  const args = Object.entries(step.args)
    .filter(([, v]) => !isEmpty(v))
    .map(argText);
  return [step.op, step.target, ...args].filter((part) => part !== undefined).join(' ');
}

/** The plan as `relupctl plan` prints it: numbered steps, the point of no return marked, each step's origin. */
export function formatPlan(plan: Plan): string {
  const steps = [...plan.before, ...plan.after];
  const texts = steps.map(stepText);
  const width = Math.max(0, ...texts.map((t) => t.length));
  const digits = String(steps.length).length;
  const lines = texts.map(
    (text, i) => `${String(i + 1).padStart(digits + 2)}. ${text.padEnd(width)}  ← ${steps[i]?.origin ?? ''}`,
  );
  return [`${plan.release} ${plan.from} → ${plan.to} (${plan.direction})`, ...lines].join('\n');
}
