import { defineCommand } from '../command-registry.ts';
import { upgradeArgs } from '../command-schema.ts';
import { upgradeByCommand } from './upgrade-by-command.ts';

/** `downgrade { to, id?, barrier? }`: moves the node to a lower release; replies with the report when it ends. */
export const downgradeCommand = defineCommand('downgrade', upgradeArgs, (ctx) =>
  upgradeByCommand(ctx, ctx.args, 'down'),
);
