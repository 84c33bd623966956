import { defineCommand } from '../command-registry.ts';
import { checkArgs } from '../command-schema.ts';
import { upgradeByCommand } from './upgrade-by-command.ts';

/** `check { to }`: runs the steps before the point of no return and undoes them; changes nothing. */
export const checkCommand = defineCommand('check', checkArgs, (ctx) =>
  upgradeByCommand(ctx, { to: ctx.args.to }, 'any', true),
);
