import { RelupError, toRelupError } from '../errors.ts';
import { decode } from '../nats/codec.ts';
import type { CommandRegistry } from './command-registry.ts';
import {
  badCommand,
  type CommandFailed,
  type CommandReply,
  commandEnvelope,
  MAX_COMMAND_ID,
} from './command-schema.ts';
import type { EventPublisher } from './event-publisher.ts';
import type { NodeApi } from './node-api.ts';
import type { CommandVerifier } from './signature.ts';

/** What a command needs besides its bytes. */
export interface DispatchContext {
  node: NodeApi;
  commands: CommandRegistry;
  /** Present when the node requires signed commands. */
  verifier: CommandVerifier | undefined;
  events: EventPublisher;
  prefix: string;
  signal: AbortSignal;
}

/**
 * Runs one command from its raw bytes and builds the reply; never throws. The order of checks
 * is: JSON → envelope → signature → command name → arguments → handler. Nothing runs unless
 * every check passed, and the signature is checked before the name so an unsigned caller
 * learns nothing about which commands exist.
 */
export async function dispatchCommand(data: Uint8Array, ctx: DispatchContext): Promise<CommandReply> {
  const started = performance.now();
  let id: string | null = null;
  let cmd: string | undefined;
  try {
    const raw = decode(data);
    id = idOf(raw);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new RelupError('BAD_COMMAND', 'a command is a JSON object { id, cmd, args }');
    const envelope = commandEnvelope.safeParse(raw);
    if (!envelope.success) throw badCommand(envelope.error);
    const command = envelope.data;
    cmd = command.cmd;
    const key = ctx.verifier?.verify(command);
    ctx.events.publish('command_received', { command: command.id, cmd, ...(key && { key }) });
    const def = ctx.commands.get(cmd);
    if (!def)
      throw new RelupError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(cmd)}`, {
        cmd,
        known: ctx.commands.names(),
      });
    const args = def.args.safeParse(command.args);
    if (!args.success) throw badCommand(args.error, ['args']);
    const result = await def.handler({
      node: ctx.node,
      args: args.data,
      id: command.id,
      events: ctx.events,
      prefix: ctx.prefix,
      signal: ctx.signal,
      verifier: ctx.verifier,
    });
    ctx.events.publish('command_finished', {
      command: command.id,
      cmd,
      ok: true,
      durationMs: elapsed(started),
      ...outcomeOf(result),
    });
    return { id: command.id, ok: true, result: result ?? null };
  } catch (err) {
    const failed: CommandFailed = { id, ok: false, error: toRelupError(err).toJSON() };
    // Refusals are reported too (bad signature, unknown command): watchers see who tries what.
    ctx.events.publish('command_finished', {
      command: id,
      cmd,
      ok: false,
      code: failed.error.code,
      message: failed.error.message,
      durationMs: elapsed(started),
    });
    return failed;
  }
}

function idOf(raw: unknown): string | null {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  // An id the envelope refuses is not echoed: a megabyte id must not come back in the reply and the event.
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_COMMAND_ID ? id : null;
}

/** An upgrade report's outcome, so a watcher of events sees how the command ended. */
function outcomeOf(result: unknown): { outcome?: string } {
  const outcome =
    result !== null && typeof result === 'object' ? (result as { outcome?: unknown }).outcome : undefined;
  return typeof outcome === 'string' ? { outcome } : {};
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
