import type { z } from 'zod';
import { type CommandHandler, CommandRegistry } from './command-registry.ts';
import { checkCommand } from './commands/check.ts';
import { disconnectClientsCommand, notifyCommand } from './commands/clients.ts';
import { downgradeCommand } from './commands/downgrade.ts';
import { maintenanceCommand } from './commands/maintenance.ts';
import { makePermanentCommand } from './commands/make-permanent.ts';
import { releasesCommand } from './commands/releases.ts';
import {
  disableServiceCommand,
  retryCommand,
  skipCommand,
  startWaitingCommand,
} from './commands/services.ts';
import { statusCommand } from './commands/status.ts';
import { upgradeCommand } from './commands/upgrade.ts';
import { upgradesCommand } from './commands/upgrades.ts';

/** The built-in commands, in the order docs/protocol.md describes them. */
export const BUILTIN_COMMANDS = [
  statusCommand,
  releasesCommand,
  upgradesCommand,
  checkCommand,
  upgradeCommand,
  downgradeCommand,
  makePermanentCommand,
  maintenanceCommand,
  notifyCommand,
  disconnectClientsCommand,
  disableServiceCommand,
  startWaitingCommand,
  retryCommand,
  skipCommand,
];

/** A new registry holding the built-in commands. */
export function createCommandRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  for (const def of BUILTIN_COMMANDS) registry.add(def);
  return registry;
}

/** The registry a control server uses unless its options name another. */
export const defaultCommands: CommandRegistry = createCommandRegistry();

/** Adds a command to the default registry: every control server started without `commands` answers it. */
export function registerCommand<S extends z.ZodType>(
  name: string,
  args: S,
  handler: CommandHandler<z.output<S>>,
): void {
  defaultCommands.register(name, args, handler);
}
