import type { Instruction } from '../instruction.ts';
import { unknownArgs } from '../step-args.ts';

/** Aborts the upgrade, before anything changed, when the node's channels cannot be found. */
export const checkChannels: Instruction = {
  name: 'check_channels',
  description: 'fails unless the channels of the node can be found through the registry',
  effects: 'none',
  insertWhere: 'before_point_of_no_return',
  validate: (step) => unknownArgs(step, []),
  async run({ runtime }) {
    await runtime.checkChannels();
    return { result: 'ok' };
  },
  inverse: (step) => step,
};
