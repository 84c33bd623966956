import type { Instruction } from '../instruction.ts';
import { needsString, stringArg, unknownArgs } from '../step-args.ts';

/** Writes a line to the upgrade's log: a note for the operator at that point of the plan. */
export const info: Instruction = {
  name: 'info',
  description: 'logs a message',
  effects: 'none',
  shorthandArg: 'message',
  validate: (step) => [...unknownArgs(step, ['message']), ...needsString(step, 'message')],
  async run({ step, runtime }) {
    runtime.log(stringArg(step, 'message'), { step: step.id });
    return { result: 'ok' };
  },
  // A note describes the way up; the down path has its own.
  inverse: () => null,
};
