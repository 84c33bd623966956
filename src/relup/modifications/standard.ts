import { RelupError } from '../../errors.ts';
import type { InsertWhere, Step } from '../instruction.ts';
import type { Modification, ModifyContext } from '../modification.ts';
import { allSteps, insertSteps } from '../plan-parts.ts';
import { makeStep } from '../step.ts';

/** The channel bracket, in its order; each op goes where its instruction's insertWhere says. */
const BRACKET = [
  'check_acceptors',
  'check_channels',
  'suspend_acceptors',
  'suspend_channels',
  'resume_channels',
  'resume_acceptors',
] as const;

/** Steps that suspend channels, or re-suspend them when undone, take the relup's suspend timeout. */
const TIMED: ReadonlySet<string> = new Set(['suspend_channels', 'resume_channels']);

const PLACES: readonly InsertWhere[] = ['before_point_of_no_return', 'after_point_of_no_return', 'at_end'];

const placeOf = (step: Step, ctx: ModifyContext): InsertWhere => {
  const where = ctx.registry.getInstruction(step.op)?.insertWhere;
  if (where === undefined)
    throw new RelupError('PLAN_INVALID', `the ${ctx.origin} modification needs an insertWhere on ${step.op}`);
  return where;
};

/**
 * The default modification: brackets the plan with acceptor and channel checks, suspension and
 * resumption, dry-runs every code_change before the point of no return and, unless the relup
 * says `pairs: in_place`, hands each redundant service whose code changes over to its partner
 * first. Steps the relup already has are not added twice.
 */
export const standard: Modification = (parts, ctx) => {
  const present = allSteps(parts);
  const has = (op: string, target?: string) => present.some((s) => s.op === op && s.target === target);
  const bracket = BRACKET.filter((op) => !has(op)).map((op) =>
    makeStep({
      op,
      args: TIMED.has(op) ? { timeoutMs: ctx.options.suspendTimeoutMs } : {},
      origin: ctx.origin,
    }),
  );
  const preflights = present
    .filter((s) => s.op === 'code_change' && !has('preflight_code_change', s.target))
    .map((s) =>
      makeStep({ op: 'preflight_code_change', target: s.target, args: { ...s.args }, origin: ctx.origin }),
    );
  const redundant = (service: string) =>
    [ctx.from, ctx.to].some((r) => r.services.some((s) => s.name === service && s.redundant !== undefined));
  const switchOvers =
    ctx.options.pairs === 'in_place'
      ? []
      : [...new Set(present.filter((s) => s.op === 'code_change').map((s) => s.target))]
          .filter((t): t is string => t !== undefined && redundant(t) && !has('switch_over', t))
          .map((target) => makeStep({ op: 'switch_over', target, origin: ctx.origin }));
  const added = [...switchOvers, ...bracket, ...preflights];
  return PLACES.reduce(
    (out, where) =>
      insertSteps(
        out,
        where,
        added.filter((s) => placeOf(s, ctx) === where),
      ),
    parts,
  );
};
