import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsString, needsTarget, stringArg, targetOf, unknownArgs } from '../step-args.ts';

/** Stops a service the new release removes; `version` is the one running, restarted by its undo. */
export const stopService: Instruction = {
  name: 'stop_service',
  description: 'stops a service',
  effects: 'node',
  // Services stop only once the channels are suspended (the SuspendChannels placement rule).
  after: () => [{ op: 'suspend_channels' }],
  validate: (step) => [
    ...needsTarget(step),
    ...unknownArgs(step, ['version']),
    ...needsString(step, 'version'),
  ],
  async run({ step, runtime }) {
    await runtime.stopService(targetOf(step));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.startService(targetOf(step), stringArg(step, 'version'));
  },
  inverse: (step) =>
    makeStep({
      op: 'start_service',
      target: targetOf(step),
      args: { version: stringArg(step, 'version') },
      origin: step.origin,
    }),
};
