import { defineCommand } from '../command-registry.ts';
import { upgradeArgs } from '../command-schema.ts';
import { upgradeByCommand } from './upgrade-by-command.ts';

/** `upgrade { to, id?, barrier? }`: moves the node to a higher release; replies with the report when it ends. */
export const upgradeCommand = defineCommand('upgrade', upgradeArgs, (ctx) =>
  upgradeByCommand(ctx, ctx.args, 'up'),
);
