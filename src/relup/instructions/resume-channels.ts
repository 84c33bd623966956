import { bulkSuspendOutcome } from '../bulk-outcome.ts';
import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { optionalTimeout, timeoutOf, unknownArgs } from '../step-args.ts';

/** Resumes every channel once every service is resumed. `timeoutMs` serves its undo. */
export const resumeChannels: Instruction = {
  name: 'resume_channels',
  description: 'resumes every channel actor',
  effects: 'node',
  pause: 'ends',
  insertWhere: 'at_end',
  validate: (step) => [...unknownArgs(step, ['timeoutMs']), ...optionalTimeout(step)],
  requires: () => [{ op: 'suspend_channels' }],
  after: () => [{ op: 'resume' }],
  async run({ runtime }) {
    await runtime.resumeChannels();
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    const bulk = await runtime.suspendChannels(timeoutOf(step));
    await bulkSuspendOutcome(bulk, 'the channels', () => runtime.resumeChannels());
  },
  inverse: (step) =>
    makeStep({ op: 'suspend_channels', args: { timeoutMs: timeoutOf(step) }, origin: step.origin }),
};
