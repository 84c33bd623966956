import type { Instruction } from '../instruction.ts';
import { needsTarget, targetOf, unknownArgs } from '../step-args.ts';

/**
 * Hands a redundant service over to its partner before this node's code changes: when this node
 * is the service's active, a forced failover (sessions parked, named actors released, the lease
 * given up) makes the partner the active, so the active is never the node being upgraded. A
 * node that is not the service's active has nothing to hand over (skipped). Not undone: after a
 * rollback the partner stays the active.
 */
export const switchOver: Instruction = {
  name: 'switch_over',
  description: "hands a redundant service to its partner when this node is the service's active",
  effects: 'node',
  insertWhere: 'after_point_of_no_return',
  validate: (step) => [...needsTarget(step), ...unknownArgs(step, [])],
  async run({ step, runtime }) {
    const handed = await runtime.switchOver(targetOf(step));
    return handed ? { result: 'ok', detail: { handedOver: true } } : { result: 'skipped' };
  },
  // The down path switches over again: the node that runs its code is never the active then either.
  inverse: (step) => step,
};
