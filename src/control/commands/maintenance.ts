import { RelupError } from '../../errors.ts';
import { parseDuration } from '../../relup/duration.ts';
import { defineCommand } from '../command-registry.ts';
import { maintenanceArgs } from '../command-schema.ts';

/**
 * `maintenance { on: true, message?, grace?, until? }` notifies every client, counts the grace
 * down, disconnects all but super-admins and refuses new sessions; `{ on: false }` ends it.
 * The reply comes when the node is in (or out of) maintenance.
 */
export const maintenanceCommand = defineCommand('maintenance', maintenanceArgs, async ({ node, args }) => {
  if (!args.on) return node.leaveMaintenance('manual');
  const graceMs = args.grace === undefined ? 0 : parseDuration(args.grace);
  if (graceMs === undefined)
    throw new RelupError(
      'BAD_COMMAND',
      `args.grace: bad duration ${JSON.stringify(args.grace)} (use e.g. 30s, 2m)`,
    );
  return node.enterMaintenance({
    graceMs,
    ...(args.message && { message: args.message }),
    ...(args.until && { until: args.until }),
  });
});
