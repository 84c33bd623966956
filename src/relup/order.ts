import { RelupError } from '../errors.ts';
import type { Selector, Step } from './instruction.ts';
import type { PlanParts } from './plan-parts.ts';
import type { StageContext } from './stage-context.ts';
import { matches, PONR_OP, selectorText } from './step.ts';

interface Unmet {
  missing: { step: string; requires: string }[];
  misplaced: string[];
}

/**
 * Stage 5: a stable topological sort of each side of the point of no return over the
 * instructions' `requires` (must exist) and `after` (ordering only when present). Steps keep
 * their order where nothing constrains them; a cycle is reported with its path.
 */
export function orderSteps(parts: PlanParts, ctx: StageContext): PlanParts {
  const head = parts.after[0]?.op === PONR_OP ? parts.after.slice(0, 1) : [];
  const rest = parts.after.slice(head.length);
  const unmet: Unmet = { missing: [], misplaced: [] };
  const beforeDeps = dependencies(parts.before, [], parts.after, ctx, unmet);
  const restDeps = dependencies(rest, [...parts.before, ...head], [], ctx, unmet);
  if (unmet.missing.length > 0) {
    const list = unmet.missing.map((m) => `${m.step} requires ${m.requires}`).join('; ');
    throw new RelupError('PLAN_MISSING_DEPENDENCY', `${ctx.direction} plan: missing dependency: ${list}`, {
      missing: unmet.missing,
    });
  }
  if (unmet.misplaced.length > 0)
    throw new RelupError('PLAN_INVALID', `${ctx.direction} plan: ${unmet.misplaced.join('; ')}`, {
      problems: unmet.misplaced,
    });
  return {
    before: sortStable(parts.before, beforeDeps, ctx),
    after: [...head, ...sortStable(rest, restDeps, ctx)],
  };
}

/** For each step, the indices of the steps of the same side it must follow. */
function dependencies(
  steps: readonly Step[],
  earlier: readonly Step[],
  later: readonly Step[],
  ctx: StageContext,
  unmet: Unmet,
): number[][] {
  return steps.map((step, i) => {
    const def = ctx.registry.getInstruction(step.op);
    const deps = new Set<number>();
    const follow = (selector: Selector, required: boolean) => {
      const here = steps.flatMap((s, j) => (j !== i && matches(selector, s) ? [j] : []));
      for (const j of here) deps.add(j);
      if (here.length > 0 || earlier.some((s) => matches(selector, s))) return;
      if (later.some((s) => matches(selector, s)))
        unmet.misplaced.push(
          `${step.id} must follow ${selectorText(selector)}, which is after the point of no return`,
        );
      else if (required) unmet.missing.push({ step: step.id, requires: selectorText(selector) });
    };
    for (const selector of def?.requires?.(step) ?? []) follow(selector, true);
    for (const selector of def?.after?.(step) ?? []) follow(selector, false);
    return [...deps];
  });
}

/** Kahn's algorithm, always taking the earliest ready step, so file order survives where it can. */
function sortStable(steps: readonly Step[], deps: readonly number[][], ctx: StageContext): Step[] {
  const placed = steps.map(() => false);
  const out: Step[] = [];
  while (out.length < steps.length) {
    const next = steps.findIndex((_, i) => !placed[i] && (deps[i] ?? []).every((j) => placed[j]));
    if (next < 0) throw cycleError(steps, deps, placed, ctx);
    placed[next] = true;
    out.push(steps[next] as Step);
  }
  return out;
}

/** Walks unplaced dependencies from the first stuck step until one repeats: that loop is the cycle. */
function cycleError(
  steps: readonly Step[],
  deps: readonly number[][],
  placed: readonly boolean[],
  ctx: StageContext,
): RelupError {
  const walk: number[] = [];
  let current = placed.indexOf(false);
  while (!walk.includes(current)) {
    walk.push(current);
    current = Math.min(...(deps[current] ?? []).filter((j) => !placed[j]));
  }
  // The walk follows "depends on"; reversed, each step runs before the next.
  const loop = [...walk.slice(walk.indexOf(current)), current].reverse();
  const ids = loop.map((i) => steps[i]?.id ?? String(i));
  return new RelupError(
    'PLAN_CYCLE',
    `${ctx.direction} plan: dependency cycle ${ids.join(' -> ')} (each step must run before the next)`,
    { cycle: ids },
  );
}
