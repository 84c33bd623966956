import { RelupError } from '../errors.ts';
import type { Step } from './instruction.ts';
import { allSteps, type PlanParts } from './plan-parts.ts';
import type { StageContext } from './stage-context.ts';
import { PONR_OP } from './step.ts';

/** What must follow each suspension, for the same target, later in the plan. */
const RESUMED_BY: Readonly<Record<string, string>> = {
  suspend: 'resume',
  suspend_acceptors: 'resume_acceptors',
  suspend_channels: 'resume_channels',
};

/**
 * Steps that load code or start or stop a service: once the point of no return has passed they
 * must wait until the channels are suspended, so no channel event meets code or services in flux.
 */
const AFTER_SUSPENDED_CHANNELS = new Set(['load', 'start_service', 'stop_service']);

const label = (op: string, target: string | undefined) => (target === undefined ? op : `${op}:${target}`);

/**
 * Stage 6: the rules an ordered plan must keep, all reported at once as PLAN_INVALID: exactly
 * one point of no return, opening the effects; nothing with effects before it; every suspension
 * resumed; every load prepared by a load_object_code; no code load or service start or stop
 * between the point of no return and suspend_channels; every step valid for its instruction.
 */
export function checkPlan(parts: PlanParts, ctx: StageContext): void {
  const steps = allSteps(parts);
  const problems = [...pointOfNoReturnProblems(parts, steps), ...stepProblems(steps, ctx)];
  const ponrAt = steps.findIndex((s) => s.op === PONR_OP);
  const channelsSuspendedAt = steps.findIndex((s) => s.op === 'suspend_channels');
  steps.forEach((step, i) => {
    if (i < ponrAt && ctx.registry.getInstruction(step.op)?.effects === 'node')
      problems.push(`${step.id} (${step.origin}) has effects but stands before the point of no return`);
    if (ponrAt >= 0 && i > ponrAt && i < channelsSuspendedAt && AFTER_SUSPENDED_CHANNELS.has(step.op))
      problems.push(
        `${step.id} (${step.origin}) stops or starts a service or loads code between the point of no return and suspend_channels`,
      );
    const resumer = RESUMED_BY[step.op];
    if (
      resumer !== undefined &&
      !steps.slice(i + 1).some((s) => s.op === resumer && s.target === step.target)
    )
      problems.push(
        `${step.id} (${step.origin}) is never resumed: no ${label(resumer, step.target)} after it`,
      );
    if (
      step.op === 'load' &&
      !steps.slice(0, i).some((s) => s.op === 'load_object_code' && s.target === step.target)
    )
      problems.push(
        `${step.id} (${step.origin}) is not preceded by ${label('load_object_code', step.target)}`,
      );
  });
  if (problems.length > 0)
    throw new RelupError('PLAN_INVALID', `${ctx.direction} plan is invalid: ${problems.join('; ')}`, {
      problems,
    });
}

function pointOfNoReturnProblems(parts: PlanParts, steps: readonly Step[]): string[] {
  const ponrs = steps.filter((s) => s.op === PONR_OP);
  if (ponrs.length !== 1)
    return [
      `a plan needs exactly one point_of_no_return, found ${ponrs.length}` +
        (ponrs.length > 0 ? ` (${ponrs.map((s) => s.origin).join(', ')})` : ''),
    ];
  return parts.after[0] === ponrs[0] ? [] : ['the point_of_no_return must open the steps after it'];
}

function stepProblems(steps: readonly Step[], ctx: StageContext): string[] {
  return steps.flatMap((step) => {
    const def = ctx.registry.getInstruction(step.op);
    if (def === undefined) return [`${step.id} (${step.origin}): unknown instruction ${step.op}`];
    return def.validate(step).map((p) => `${step.id} (${step.origin}): ${p}`);
  });
}
