import type { PlanParts } from './plan-parts.ts';
import type { StageContext } from './stage-context.ts';

/** What a modification knows besides the plan: the stage context and its own name (the origin of its steps). */
export interface ModifyContext extends StageContext {
  origin: string;
}

/** A named, pure rewrite of a plan before ordering; returns new parts. */
export type Modification = (parts: PlanParts, ctx: ModifyContext) => PlanParts;
