import { defineCommand } from '../command-registry.ts';
import { disconnectArgs, notifyArgs } from '../command-schema.ts';

/** `notify { message }`: a `{ type: 'notice', message }` push to every client session. */
export const notifyCommand = defineCommand('notify', notifyArgs, async ({ node, args }) => ({
  sessions: node.notifyClients({ type: 'notice', message: args.message }),
}));

/** `disconnect_clients { except?, reason? }`: ends every session but super-admins' and the listed ones. */
export const disconnectClientsCommand = defineCommand(
  'disconnect_clients',
  disconnectArgs,
  async ({ node, args }) => ({
    disconnected: await node.disconnectClients({
      keepSuperAdmins: true,
      ...(args.except && { except: args.except }),
      ...(args.reason && { reason: args.reason }),
    }),
  }),
);
