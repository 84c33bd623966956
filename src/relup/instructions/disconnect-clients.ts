import type { Instruction } from '../instruction.ts';
import { needsString, unknownArgs } from '../step-args.ts';

/** Disconnects every client session except super-admins'. */
export const disconnectClients: Instruction = {
  name: 'disconnect_clients',
  description: "disconnects every client session except super-admins'",
  effects: 'node',
  shorthandArg: 'reason',
  validate: (step) => [...unknownArgs(step, ['reason']), ...needsString(step, 'reason', true)],
  async run({ step, runtime }) {
    const reason =
      typeof step.args['reason'] === 'string' ? step.args['reason'] : 'disconnected for an upgrade';
    const sessions = await runtime.disconnectClients(reason);
    return { result: 'ok', detail: { sessions } };
  },
  // Disconnected clients reconnect on their own; nothing to undo.
  inverse: () => null,
};
