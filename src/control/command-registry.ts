import type { z } from 'zod';
import { RelupError } from '../errors.ts';
import type { EventPublisher } from './event-publisher.ts';
import type { NodeApi } from './node-api.ts';
import type { CommandVerifier } from './signature.ts';

/** What a command handler gets. */
export interface CommandContext<A> {
  node: NodeApi;
  /** The arguments, parsed by the command's schema. */
  args: A;
  /** The command id chosen by the operator. */
  id: string;
  events: EventPublisher;
  /** The subject prefix of the node (`relup`). */
  prefix: string;
  /** Aborted when the control server stops: long commands (an upgrade at a barrier) end early. */
  signal: AbortSignal;
  /** Present when the node requires signed commands: a barrier's verdict must be signed too. */
  verifier?: CommandVerifier | undefined;
}

/** Runs a command; its return value is the reply's `result`, a throw becomes `ok: false`. */
export type CommandHandler<A> = (ctx: CommandContext<A>) => unknown;

/** A registered command: its name, argument schema and handler. */
export interface CommandDefinition {
  name: string;
  args: z.ZodType;
  handler: CommandHandler<unknown>;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Builds a command definition, typing the handler's args by the schema. */
export function defineCommand<S extends z.ZodType>(
  name: string,
  args: S,
  handler: CommandHandler<z.output<S>>,
): CommandDefinition {
  // The registry calls a handler only with args its own schema produced, so erasing the type is safe.
  return { name, args, handler: handler as CommandHandler<unknown> };
}

/** The commands a control server answers; more can be added while it runs. */
export class CommandRegistry {
  private readonly commands = new Map<string, CommandDefinition>();

  /** Adds a command; BAD_OPTIONS for a bad name, DUPLICATE_NAME for a taken one. */
  add(def: CommandDefinition): this {
    if (!NAME.test(def.name))
      throw new RelupError('BAD_OPTIONS', `command name ${JSON.stringify(def.name)} must match ${NAME}`);
    if (this.commands.has(def.name))
      throw new RelupError('DUPLICATE_NAME', `command ${def.name} is already registered`, { name: def.name });
    this.commands.set(def.name, def);
    return this;
  }

  /** Adds a command from its parts (see {@link defineCommand}). */
  register<S extends z.ZodType>(name: string, args: S, handler: CommandHandler<z.output<S>>): this {
    return this.add(defineCommand(name, args, handler));
  }

  /** The command of that name, if any. */
  get(name: string): CommandDefinition | undefined {
    return this.commands.get(name);
  }

  /** The names of the commands, sorted. */
  names(): string[] {
    return [...this.commands.keys()].sort();
  }
}
