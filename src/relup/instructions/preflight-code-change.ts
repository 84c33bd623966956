import type { Instruction } from '../instruction.ts';
import { codeChangeProblems, codeChangeRequest, invertCodeChange, targetOf } from '../step-args.ts';

/**
 * Runs a service's migration on copies of its live snapshots before the point of no return, so a
 * migration that throws aborts the upgrade while the node is still untouched.
 */
export const preflightCodeChange: Instruction = {
  name: 'preflight_code_change',
  description: 'dry-runs the code_change of a service on copies of its live state',
  effects: 'none',
  insertWhere: 'before_point_of_no_return',
  validate: codeChangeProblems,
  requires: (step) => [{ op: 'load_object_code', target: targetOf(step) }],
  async run({ step, runtime }) {
    await runtime.preflightCodeChange(targetOf(step), codeChangeRequest(step));
    return { result: 'ok' };
  },
  inverse: invertCodeChange,
};
