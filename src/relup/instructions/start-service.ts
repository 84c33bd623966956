import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsString, needsTarget, stringArg, targetOf, unknownArgs } from '../step-args.ts';

/** Starts a service that the new release adds. */
export const startService: Instruction = {
  name: 'start_service',
  description: 'starts a service at a prepared version',
  effects: 'node',
  validate: (step) => [
    ...needsTarget(step),
    ...unknownArgs(step, ['version']),
    ...needsString(step, 'version'),
  ],
  // Services start only once the channels are suspended (the SuspendChannels placement rule).
  after: (step) => [{ op: 'load_object_code', target: targetOf(step) }, { op: 'suspend_channels' }],
  async run({ step, runtime }) {
    await runtime.startService(targetOf(step), stringArg(step, 'version'));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.stopService(targetOf(step));
  },
  inverse: (step) =>
    makeStep({
      op: 'stop_service',
      target: targetOf(step),
      args: { version: stringArg(step, 'version') },
      origin: step.origin,
    }),
};
