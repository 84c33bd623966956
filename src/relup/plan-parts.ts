import type { InsertWhere, Step } from './instruction.ts';
import { PONR_OP } from './step.ts';

/**
 * A plan while it is compiled: the steps before the point of no return, and the steps from it
 * on (`after[0]` is the point of no return once expansion has inserted it).
 */
export interface PlanParts {
  before: Step[];
  after: Step[];
}

/** Every step in plan order. */
export function allSteps(parts: PlanParts): Step[] {
  return [...parts.before, ...parts.after];
}

/** Inserts steps, in their order, where an instruction's `insertWhere` says; returns new parts. */
export function insertSteps(parts: PlanParts, where: InsertWhere, steps: readonly Step[]): PlanParts {
  switch (where) {
    case 'before_point_of_no_return':
      return { before: [...steps, ...parts.before], after: parts.after };
    case 'after_point_of_no_return': {
      const at = parts.after.findIndex((s) => s.op === PONR_OP) + 1;
      return {
        before: parts.before,
        after: [...parts.after.slice(0, at), ...steps, ...parts.after.slice(at)],
      };
    }
    case 'at_end':
      return { before: parts.before, after: [...parts.after, ...steps] };
  }
}

/** Suffixes repeated ids (`info`, `info#2`) so every step of a plan has its own id. */
export function withUniqueIds(parts: PlanParts): PlanParts {
  const seen = new Map<string, number>();
  const unique = (step: Step): Step => {
    const n = (seen.get(step.id) ?? 0) + 1;
    seen.set(step.id, n);
    return n === 1 ? step : { ...step, id: `${step.id}#${n}` };
  };
  return { before: parts.before.map(unique), after: parts.after.map(unique) };
}
