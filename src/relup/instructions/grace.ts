import { RelupError } from '../../errors.ts';
import { parseDuration } from '../duration.ts';
import type { Instruction } from '../instruction.ts';
import { needsString, unknownArgs } from '../step-args.ts';

/** Waits a grace period while telling every client how long is left. */
export const grace: Instruction = {
  name: 'grace',
  description: 'waits a grace period, pushing a countdown to every client',
  effects: 'node',
  shorthandArg: 'duration',
  validate: (step) => [
    ...unknownArgs(step, ['duration', 'message']),
    ...needsString(step, 'message', true),
    ...(parseDuration(step.args['duration']) === undefined
      ? [`bad duration ${JSON.stringify(step.args['duration'])} (use e.g. 250ms, 5s, 2m, or a number of ms)`]
      : []),
  ],
  async run({ step, runtime, signal }) {
    const ms = parseDuration(step.args['duration']);
    if (ms === undefined) throw new RelupError('PLAN_INVALID', `${step.id} has no valid duration`);
    const message = typeof step.args['message'] === 'string' ? step.args['message'] : 'An upgrade is coming.';
    await runtime.grace(ms, message, signal);
    return { result: 'ok' };
  },
  inverse: () => null,
};
