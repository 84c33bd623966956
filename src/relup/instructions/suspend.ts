import { bulkSuspendOutcome } from '../bulk-outcome.ts';
import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsTarget, optionalTimeout, targetOf, timeoutOf, unknownArgs } from '../step-args.ts';

/** Suspends the named actors of a service (OTP's suspend); fails on a timeout after resuming them. */
export const suspend: Instruction = {
  name: 'suspend',
  description: 'suspends the named actors of a service (bulk, timed)',
  effects: 'node',
  pause: 'starts',
  validate: (step) => [...needsTarget(step), ...unknownArgs(step, ['timeoutMs']), ...optionalTimeout(step)],
  after: () => [{ op: 'suspend_channels' }],
  async run({ step, runtime }) {
    const service = targetOf(step);
    const bulk = await runtime.suspendService(service, timeoutOf(step));
    return bulkSuspendOutcome(bulk, `the actors of ${service}`, () => runtime.resumeService(service));
  },
  async undo({ step, runtime }) {
    await runtime.resumeService(targetOf(step));
  },
  inverse: (step) =>
    makeStep({
      op: 'resume',
      target: targetOf(step),
      args: { timeoutMs: timeoutOf(step) },
      origin: step.origin,
    }),
};
