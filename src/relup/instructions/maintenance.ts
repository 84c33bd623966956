import type { Instruction, Step } from '../instruction.ts';
import { makeStep } from '../step.ts';
import { needsString, unknownArgs } from '../step-args.ts';

const isOn = (step: Step) => step.args['on'] === true || step.args['on'] === 'on';

/**
 * Puts the node in maintenance mode or takes it out (around an
 * import, say): in maintenance only super-admins connect and only services required there run.
 */
export const maintenance: Instruction = {
  name: 'maintenance',
  description: 'maintenance mode on or off around an upgrade',
  effects: 'node',
  shorthandArg: 'on',
  validate: (step) => {
    const on = step.args['on'];
    return [
      ...unknownArgs(step, ['on', 'message', 'until']),
      ...needsString(step, 'message', true),
      ...needsString(step, 'until', true),
      ...(on === true || on === false || on === 'on' || on === 'off'
        ? []
        : ['on must be on/off or true/false']),
    ];
  },
  async run({ step, runtime }) {
    const message =
      typeof step.args['message'] === 'string' ? step.args['message'] : 'maintenance for an upgrade';
    const until = typeof step.args['until'] === 'string' ? step.args['until'] : undefined;
    await runtime.maintenance(isOn(step), message, until);
    return { result: 'ok' };
  },
  async undo({ step, runtime }) {
    await runtime.maintenance(!isOn(step), 'undoing an upgrade step', undefined);
  },
  inverse: (step) =>
    makeStep({ op: 'maintenance', args: { ...step.args, on: !isOn(step) }, origin: `auto(${step.origin})` }),
};
