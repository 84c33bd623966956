import { bulkSuspendOutcome } from '../bulk-outcome.ts';
import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { optionalTimeout, timeoutOf, unknownArgs } from '../step-args.ts';

/**
 * Suspends every channel actor at once with one deadline. Fails on
 * a timeout or on actors that cannot suspend, after resuming the ones that did.
 */
export const suspendChannels: Instruction = {
  name: 'suspend_channels',
  description: 'suspends every channel actor concurrently (bulk, timed)',
  effects: 'node',
  pause: 'starts',
  insertWhere: 'after_point_of_no_return',
  validate: (step) => [...unknownArgs(step, ['timeoutMs']), ...optionalTimeout(step)],
  requires: () => [{ op: 'check_channels' }],
  after: () => [{ op: 'suspend_acceptors' }],
  async run({ step, runtime }) {
    const bulk = await runtime.suspendChannels(timeoutOf(step));
    return bulkSuspendOutcome(bulk, 'the channels', () => runtime.resumeChannels());
  },
  async undo({ runtime }) {
    await runtime.resumeChannels();
  },
  inverse: (step) =>
    makeStep({ op: 'resume_channels', args: { timeoutMs: timeoutOf(step) }, origin: step.origin }),
};
