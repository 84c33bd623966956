import { bulkSuspendOutcome } from '../bulk-outcome.ts';
import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsTarget, optionalTimeout, targetOf, timeoutOf, unknownArgs } from '../step-args.ts';

/** Resumes a service's actors; their queued messages run in order. `timeoutMs` serves its undo. */
export const resume: Instruction = {
  name: 'resume',
  description: 'resumes the named actors of a service',
  effects: 'node',
  pause: 'ends',
  validate: (step) => [...needsTarget(step), ...unknownArgs(step, ['timeoutMs']), ...optionalTimeout(step)],
  requires: (step) => [{ op: 'suspend', target: targetOf(step) }],
  after: (step) => [
    { op: 'load', target: targetOf(step) },
    { op: 'code_change', target: targetOf(step) },
  ],
  async run({ step, runtime }) {
    await runtime.resumeService(targetOf(step));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    const service = targetOf(step);
    const bulk = await runtime.suspendService(service, timeoutOf(step));
    await bulkSuspendOutcome(bulk, `the actors of ${service}`, () => runtime.resumeService(service));
  },
  inverse: (step) =>
    makeStep({
      op: 'suspend',
      target: targetOf(step),
      args: { timeoutMs: timeoutOf(step) },
      origin: step.origin,
    }),
};
