import { RelupError } from '../errors.ts';
import { type PlanParts, withUniqueIds } from './plan-parts.ts';
import type { Registry } from './registry.ts';
import type { StageContext } from './stage-context.ts';

/**
 * Stage 4: applies the relup's modifications in order (`standard` by default), each a pure
 * rewrite that inserts steps where their instructions' `insertWhere` says. The plan's steps are
 * complete after this stage, so it also gives every step its own id.
 */
export function applyModifications(parts: PlanParts, ctx: StageContext, registry: Registry): PlanParts {
  const modified = ctx.options.modifications.reduce((out, name) => {
    const modification = registry.getModification(name);
    if (modification === undefined)
      throw new RelupError('BAD_RELUP', `unknown modification "${name}"`, { name });
    return modification(out, { ...ctx, origin: name });
  }, parts);
  return withUniqueIds(modified);
}
