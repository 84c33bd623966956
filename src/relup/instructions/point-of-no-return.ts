import type { Instruction } from '../instruction.ts';
import { PONR_OP } from '../step.ts';
import { unknownArgs } from '../step-args.ts';

/**
 * The line between preparation and effects: a failure before it is undone exactly, a failure
 * after it is rolled back through the down path.
 */
export const pointOfNoReturn: Instruction = {
  name: PONR_OP,
  description: 'marks where effects begin; failures after it roll back through the down path',
  effects: 'marker',
  validate: (step) => unknownArgs(step, []),
  async run({ runtime, plan }) {
    // In a cluster-wide upgrade no node passes before every node has finished its checks.
    await runtime.barrier();
    runtime.log('point of no return', { release: plan.release, from: plan.from, to: plan.to });
    return { result: 'ok' };
  },
  // Every plan gets its own from the compiler; carrying one over would misplace it.
  inverse: () => null,
};
