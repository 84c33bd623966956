import type { Instruction } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsString, needsTarget, stringArg, targetOf, unknownArgs } from '../step-args.ts';

/** Imports and verifies a service's module of a version, switching nothing (OTP's load_object_code). */
export const loadObjectCode: Instruction = {
  name: 'load_object_code',
  description: "prepares a service's code of a version without switching to it",
  effects: 'prepare',
  validate: (step) => [
    ...needsTarget(step),
    ...unknownArgs(step, ['version']),
    ...needsString(step, 'version'),
  ],
  async run({ step, runtime }) {
    await runtime.loadObjectCode(targetOf(step), stringArg(step, 'version'));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.unloadObjectCode(targetOf(step), stringArg(step, 'version'));
  },
  // The way down prepares the version the way up switched from; a service the way up only
  // started needs no code on the way down.
  inverse: (step, plan) => {
    const load = [...plan.before, ...plan.after].find((s) => s.op === 'load' && s.target === step.target);
    const from = load?.args['from'];
    if (typeof from !== 'string') return null;
    return makeStep({ op: step.op, target: targetOf(step), args: { version: from }, origin: step.origin });
  },
};
