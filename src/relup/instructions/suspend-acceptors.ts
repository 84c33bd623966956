import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { unknownArgs } from '../step-args.ts';

/** Acceptors hold new connect requests (none refused) so no channel starts during the upgrade. */
export const suspendAcceptors: Instruction = {
  name: 'suspend_acceptors',
  description: 'holds new connect requests in arrival order',
  effects: 'node',
  pause: 'starts',
  insertWhere: 'after_point_of_no_return',
  validate: (step) => unknownArgs(step, []),
  requires: () => [{ op: 'check_acceptors' }],
  // A switch-over parks the sessions it hands over: it runs while the channels still take messages.
  after: () => [{ op: 'switch_over' }],
  async run({ runtime }) {
    await runtime.suspendAcceptors();
    return { result: 'ok' };
  },
  async undo({ runtime }) {
    await runtime.resumeAcceptors();
  },
  inverse: (step) => makeStep({ op: 'resume_acceptors', origin: step.origin }),
};
