import type { Instruction } from '../instruction.ts';
import {
  codeChangeProblems,
  codeChangeRequest,
  invertCodeChange,
  reversedCodeChange,
  targetOf,
} from '../step-args.ts';

/** Migrates every live actor and channel of a service into the loaded code (OTP's code_change). */
export const codeChange: Instruction = {
  name: 'code_change',
  description: "migrates a service's live state with its codeChange",
  effects: 'node',
  validate: codeChangeProblems,
  requires: (step) => [{ op: 'load', target: targetOf(step) }],
  after: (step) => [{ op: 'suspend', target: targetOf(step) }],
  async run({ step, runtime }) {
    await runtime.codeChange(targetOf(step), codeChangeRequest(step));
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.codeChange(targetOf(step), reversedCodeChange(step));
  },
  inverse: invertCodeChange,
};
