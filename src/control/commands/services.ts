import { defineCommand } from '../command-registry.ts';
import { noArgs, serviceArgs } from '../command-schema.ts';

/** `disable_service { service }`: the answer to a dependency error; the node continues without it. */
export const disableServiceCommand = defineCommand('disable_service', serviceArgs, async ({ node, args }) =>
  node.disableService(args.service),
);

/** `retry`: runs again the upgrade whose high-priority migration script failed. */
export const retryCommand = defineCommand('retry', noArgs, async ({ node }) =>
  node.resolveFailedScript('retry'),
);

/** `skip`: runs the upgrade whose high-priority script failed, without that script. */
export const skipCommand = defineCommand('skip', noArgs, async ({ node }) =>
  node.resolveFailedScript('skip'),
);

/** `start_waiting { service }`: starts a service its restart mode (`cleanup`) left waiting at boot. */
export const startWaitingCommand = defineCommand('start_waiting', serviceArgs, async ({ node, args }) => ({
  started: await node.startWaiting(args.service),
}));
