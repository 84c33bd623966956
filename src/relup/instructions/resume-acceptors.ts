import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { unknownArgs } from '../step-args.ts';

/** Acceptors admit the held connect requests in order, last of all, so new sessions meet new code. */
export const resumeAcceptors: Instruction = {
  name: 'resume_acceptors',
  description: 'admits the held connect requests in order, then takes new ones',
  effects: 'node',
  pause: 'ends',
  insertWhere: 'at_end',
  validate: (step) => unknownArgs(step, []),
  requires: () => [{ op: 'suspend_acceptors' }],
  after: () => [{ op: 'resume_channels' }],
  async run({ runtime }) {
    await runtime.resumeAcceptors();
    return { result: 'ok' };
  },
  async undo({ runtime }) {
    await runtime.suspendAcceptors();
  },
  inverse: (step) => makeStep({ op: 'suspend_acceptors', origin: step.origin }),
};
