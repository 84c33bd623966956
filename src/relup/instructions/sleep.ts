import { setTimeout as delay } from 'node:timers/promises';
import { RelupError } from '../../errors.ts';
import { parseDuration } from '../duration.ts';
import type { Instruction } from '../instruction.ts';
import { unknownArgs } from '../step-args.ts';

/** Waits, e.g. to let clients settle between steps; the upgrade's cancel signal cuts it short. */
export const sleep: Instruction = {
  name: 'sleep',
  description: 'waits for a duration',
  effects: 'none',
  shorthandArg: 'duration',
  validate: (step) => [
    ...unknownArgs(step, ['duration']),
    ...(parseDuration(step.args['duration']) === undefined
      ? [`bad duration ${JSON.stringify(step.args['duration'])} (use e.g. 250ms, 5s, 2m, or a number of ms)`]
      : []),
  ],
  async run({ step, signal }) {
    const ms = parseDuration(step.args['duration']);
    if (ms === undefined) throw new RelupError('PLAN_INVALID', `${step.id} has no valid duration`);
    await delay(ms, undefined, { signal });
    return { result: 'ok' };
  },
  inverse: (step) => step,
};
