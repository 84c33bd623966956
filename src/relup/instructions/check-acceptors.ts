import type { Instruction } from '../instruction.ts';
import { unknownArgs } from '../step-args.ts';

/** Aborts the upgrade, before anything changed, when an acceptor is missing or not subscribed. */
export const checkAcceptors: Instruction = {
  name: 'check_acceptors',
  description: 'fails unless every running service has a subscribed acceptor',
  effects: 'none',
  insertWhere: 'before_point_of_no_return',
  validate: (step) => unknownArgs(step, []),
  async run({ runtime }) {
    await runtime.checkAcceptors();
    return { result: 'ok' };
  },
  inverse: (step) => step,
};
