import type { Plan } from './instruction.ts';
import type { PlanParts } from './plan-parts.ts';
import type { StageContext } from './stage-context.ts';

/** Stage 7: the checked parts become the Plan the executor runs and `relupctl plan` prints. */
export function buildPlan(parts: PlanParts, ctx: StageContext): Plan {
  return {
    release: ctx.release,
    from: ctx.from.version,
    to: ctx.to.version,
    direction: ctx.direction,
    before: parts.before,
    after: parts.after,
  };
}
