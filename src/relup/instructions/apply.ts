import { renderError } from '../../errors.ts';
import type { Instruction, Step } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { isRecord, needsString, stringArg, unknownArgs } from '../step-args.ts';

const scriptArgs = (step: Step): Record<string, unknown> => {
  const args = step.args['args'];
  return isRecord(args) ? args : {};
};

/**
 * Runs a migration script of the target release after the point of no return. A `high` priority
 * failure fails the upgrade; a `low` one is logged and reported as a warning.
 */
export const apply: Instruction = {
  name: 'apply',
  description: 'runs a migration script of the release (priority high fails the upgrade, low warns)',
  effects: 'node',
  validate: (step) => {
    const { priority, args } = step.args;
    return [
      ...unknownArgs(step, ['module', 'priority', 'args', 'down']),
      ...needsString(step, 'module'),
      ...needsString(step, 'down', true),
      ...(priority === undefined || priority === 'high' || priority === 'low'
        ? []
        : ['priority of apply must be "high" or "low"']),
      ...(args === undefined || isRecord(args) ? [] : ['args of apply must be a mapping']),
    ];
  },
  async run({ step, plan, runtime }) {
    const module = stringArg(step, 'module');
    try {
      await runtime.apply(module, scriptArgs(step), plan.direction);
      return { result: 'ok' };
    } catch (err) {
      if (step.args['priority'] === 'low') {
        runtime.log(`low priority apply ${module} failed; going on`, { module, error: renderError(err) });
        return { result: 'warning', detail: renderError(err) };
      }
      throw err;
    }
  },
  async undo({ step, plan, runtime }) {
    const down = step.args['down'];
    if (typeof down !== 'string') {
      runtime.log(`apply ${stringArg(step, 'module')} has no down module; its effects stay`, {
        step: step.id,
      });
      return;
    }
    await runtime.apply(down, scriptArgs(step), plan.direction === 'up' ? 'down' : 'up');
  },
  inverse: (step) => {
    const down = step.args['down'];
    if (typeof down !== 'string') return null;
    const module = stringArg(step, 'module');
    return makeStep({
      op: step.op,
      key: down,
      args: { ...step.args, module: down, down: module },
      origin: step.origin,
    });
  },
};
