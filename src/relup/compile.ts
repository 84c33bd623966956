import { readFile } from 'node:fs/promises';
import type { Problem } from '../problems.ts';
import { checkPlan } from './check.ts';
import { checkCoverage } from './coverage.ts';
import { invertEntries } from './down.ts';
import { expandEntries } from './expand.ts';
import type { Plan, Step } from './instruction.ts';
import { applyModifications } from './modify.ts';
import { orderSteps } from './order.ts';
import { type ParsedRelup, parseRelup } from './parse.ts';
import { buildPlan } from './plan.ts';
import { allSteps, insertSteps, type PlanParts, withUniqueIds } from './plan-parts.ts';
import { badRelup } from './problems.ts';
import { createRegistry, type Registry } from './registry.ts';
import type { ReleaseInfo } from './release-info.ts';
import type { Entry, RelupSpec } from './spec.ts';
import type { StageContext } from './stage-context.ts';
import { makeStep, PONR_OP } from './step.ts';
import { validateRelup } from './validate.ts';

/** What a compile needs: the relup text, its file name (for problems), and both releases. */
export interface CompileInput {
  source: string;
  file: string;
  fromManifest: ReleaseInfo;
  toManifest: ReleaseInfo;
  /** Instructions and modifications; the built-ins when absent. */
  registry?: Registry;
  /** The source parsed already (a caller that read its versions first), so it is parsed once. */
  parsed?: ParsedRelup;
}

/** The two plans of a relup: the way up and the way back down. */
export interface CompiledRelup {
  plan: Plan;
  down: Plan;
}

/**
 * Compiles a relup file into its up and down plans: parse → validate → expand → modify → order →
 * check (and coverage) → plan, each a pure stage. Throws BAD_RELUP (also for a step repeated), PLAN_CYCLE,
 * PLAN_MISSING_DEPENDENCY, PLAN_INVALID or UNCOVERED_CHANGE.
 */
export function compileRelup(input: CompileInput): CompiledRelup {
  const registry = input.registry ?? createRegistry();
  const from = input.fromManifest;
  const to = input.toManifest;
  const spec = validateRelup(input.parsed ?? parseRelup(input.source, input.file), { registry, from, to });
  const base = { release: spec.release, options: spec.options, registry };
  const plan = compileDirection(spec.up, { ...base, direction: 'up', from, to }, spec, registry);
  const downEntries = spec.down === 'auto' ? invertEntries(spec.up, plan, registry) : spec.down;
  const down = compileDirection(
    downEntries,
    { ...base, direction: 'down', from: to, to: from },
    spec,
    registry,
  );
  return { plan, down };
}

/** Reads a relup file and compiles it; its path names the file in problems. */
export async function compileRelupFile(
  path: string,
  input: Omit<CompileInput, 'source' | 'file'>,
): Promise<CompiledRelup> {
  return compileRelup({ ...input, source: await readFile(path, 'utf8'), file: path });
}

function compileDirection(
  entries: readonly Entry[],
  ctx: StageContext,
  spec: RelupSpec,
  registry: Registry,
): Plan {
  const expanded = expandEntries(entries, ctx);
  checkRepeats(allSteps(expanded), spec.file);
  const parts = orderSteps(insertHooks(applyModifications(expanded, ctx, registry), spec.hooks), ctx);
  checkPlan(parts, ctx);
  checkCoverage(parts, ctx);
  return buildPlan(parts, ctx);
}

/**
 * The entries may not do the same thing twice (BAD_RELUP): the same instruction on the same
 * service (`suspend chat` twice, or `suspend chat` next to `update chat`), or an instruction
 * without a target with the same arguments.
 */
function checkRepeats(steps: readonly Step[], file: string): void {
  const first = new Map<string, Step>();
  const problems: Problem[] = [];
  // A second point of no return breaks a rule of its own, reported by checkPlan.
  for (const step of steps.filter((s) => s.op !== PONR_OP)) {
    const key =
      step.target === undefined ? `${step.op} ${JSON.stringify(step.args)}` : `${step.op}:${step.target}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, step);
    else
      problems.push({
        file,
        path: step.origin,
        message: `${step.id} repeats the same step of ${earlier.origin}`,
      });
  }
  if (problems.length > 0) throw badRelup(problems);
}

/**
 * Hooks go around everything the modifications added: `before` right after the point of no
 * return (ahead of the acceptor suspension), `after` at the very end (after the acceptors resume).
 */
function insertHooks(parts: PlanParts, hooks: RelupSpec['hooks']): PlanParts {
  if (hooks.before.length === 0 && hooks.after.length === 0) return parts;
  const steps = (list: RelupSpec['hooks']['before']) =>
    list.map((e) =>
      makeStep({ op: e.op, ...(e.target && { target: e.target }), args: e.args, origin: e.origin }),
    );
  const withBefore = insertSteps(parts, 'after_point_of_no_return', steps(hooks.before));
  return withUniqueIds(insertSteps(withBefore, 'at_end', steps(hooks.after)));
}
