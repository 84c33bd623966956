import { bulkSuspendOutcome } from '../bulk-outcome.ts';
import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { optionalTimeout, timeoutOf, unknownArgs } from '../step-args.ts';

/**
 * Suspends every channel actor at once with one deadline. Fails on a timeout, after resuming the
 * ones that did; a channel set that cannot be suspended is reported as a warning (`not_supported`)
 * and the upgrade goes on.
 */
export const suspendChannels: Instruction = {
  name: 'suspend_channels',
  description: 'suspends every channel actor concurrently (bulk, timed)',
  effects: 'node',
  pause: 'starts',
  insertWhere: 'after_point_of_no_return',
  validate: (step) => [...unknownArgs(step, ['timeoutMs']), ...optionalTimeout(step)],
  // The instruction's declared dependencies: both checks run before it on the way up.
  requires: () => [{ op: 'check_acceptors' }, { op: 'check_channels' }],
  after: () => [{ op: 'suspend_acceptors' }],
  async run({ step, runtime }) {
    const bulk = await runtime.suspendChannels(timeoutOf(step));
    return bulkSuspendOutcome(bulk, 'the channels', () => runtime.resumeChannels(), 'warn');
  },
  async undo({ runtime }) {
    await runtime.resumeChannels();
  },
  inverse: (step) =>
    makeStep({ op: 'resume_channels', args: { timeoutMs: timeoutOf(step) }, origin: step.origin }),
};
