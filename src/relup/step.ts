import type { Selector, Step } from './instruction.ts';

/** The op of the point of no return, the one step every plan has exactly once. */
export const PONR_OP = 'point_of_no_return';

/** What {@link makeStep} needs; `key` names the step when it has no target (e.g. an apply's module). */
export interface NewStep {
  op: string;
  target?: string;
  args?: Record<string, unknown>;
  origin: string;
  key?: string;
}

/** Builds a step with its conventional id: `op:target`, `op:key` or `op`. */
export function makeStep({ op, target, args = {}, origin, key }: NewStep): Step {
  const name = key ?? target;
  return {
    id: name === undefined ? op : `${op}:${name}`,
    op,
    ...(target === undefined ? {} : { target }),
    args,
    origin,
  };
}

/** Whether a step is one a selector names. */
export function matches(selector: Selector, step: Step): boolean {
  return step.op === selector.op && (selector.target === undefined || step.target === selector.target);
}

/** A selector as text, for messages: `suspend:chat` or `suspend_channels`. */
export function selectorText(selector: Selector): string {
  return selector.target === undefined ? selector.op : `${selector.op}:${selector.target}`;
}
