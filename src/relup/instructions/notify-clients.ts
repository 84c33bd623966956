import type { Instruction } from '../instruction.ts';
import { needsString, stringArg, unknownArgs } from '../step-args.ts';

/** Pushes a notice to every client session. */
export const notifyClients: Instruction = {
  name: 'notify_clients',
  description: 'pushes a notice to every client session',
  effects: 'node',
  shorthandArg: 'message',
  validate: (step) => [...unknownArgs(step, ['message']), ...needsString(step, 'message')],
  async run({ step, runtime }) {
    const sessions = await runtime.notifyClients(stringArg(step, 'message'));
    return { result: 'ok', detail: { sessions } };
  },
  // A notice cannot be taken back; the down path writes its own.
  inverse: () => null,
};
