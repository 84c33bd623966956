import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsString, needsTarget, stringArg, targetOf, unknownArgs } from '../step-args.ts';

/** Switches a service's code pointer to prepared code (OTP's load); `from` is the version it undoes to. */
export const load: Instruction = {
  name: 'load',
  description: "switches a service's code to a prepared version",
  effects: 'node',
  validate: (step) => [
    ...needsTarget(step),
    ...unknownArgs(step, ['version', 'from']),
    ...needsString(step, 'version'),
    ...needsString(step, 'from'),
  ],
  requires: (step) => [{ op: 'load_object_code', target: targetOf(step) }],
  after: (step) => [{ op: 'suspend', target: targetOf(step) }],
  async run({ step, runtime }) {
    await runtime.switchCode(targetOf(step), stringArg(step, 'version'));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.switchCode(targetOf(step), stringArg(step, 'from'));
  },
  inverse: (step) =>
    makeStep({
      op: step.op,
      target: targetOf(step),
      args: { version: stringArg(step, 'from'), from: stringArg(step, 'version') },
      origin: step.origin,
    }),
};
