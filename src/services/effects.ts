import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { EventObject } from 'xstate';
import type { EmitContext, EmitHandler } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';
import { encode } from '../nats/codec.ts';
import type { Subjects } from '../nats/subjects.ts';

/**
 * The effects a logic may emit, as plain data (the logic stays pure; the host acts):
 * - `{ type: 'push', message, to? }`: a push to the client of a session (`to`: one id or a
 *   list; a channel without `to` pushes to its own client);
 * - `{ type: 'forward', to, event }`: a request to a named actor whose answer becomes the reply;
 * - `{ type: 'send', to, event }`: a message to a named actor, no answer awaited;
 * - `{ type: 'close', reason? }`: a channel ends its session.
 */
export type Effect =
  | { type: 'push'; message: unknown; to?: string | string[] }
  | { type: 'forward'; to: string; event: EventObject }
  | { type: 'send'; to: string; event: EventObject }
  | { type: 'close'; reason?: string };

/** How effects reach named actors and sessions. */
export interface EffectPorts {
  nc: NatsConnection;
  subjects: Subjects;
  /** Requests a named actor wherever it lives; resolves with its reply body. */
  call(name: string, event: EventObject): Promise<unknown>;
  /** Sends to a named actor wherever it lives. */
  cast(name: string, event: EventObject): void;
  /**
   * For a redundant service: the term headers a push carries, or null while this node may not
   * act (nothing is pushed then). Absent, or undefined: a plain push.
   */
  headers?: () => MsgHdrs | null | undefined;
}

/**
 * Builds the emit handler of a kind of actor. For channels `ownSession` is true: the actor's id
 * is its session, the client a push without `to` goes to. One handler serves every actor of a
 * service, so a channel costs no closure of its own.
 */
export function effectHandler(
  ports: EffectPorts,
  ownSession: boolean,
  onClose?: (session: string, reason: string) => void,
): EmitHandler {
  return (emitted: EventObject, ctx: EmitContext) => {
    const effect = emitted as Effect;
    switch (effect.type) {
      case 'push': {
        const to = effect.to ?? (ownSession ? ctx.actor.id : undefined);
        if (to === undefined) return undefined;
        const headers = ports.headers?.();
        if (headers === null) return undefined;
        const payload = encode(effect.message);
        const opts = headers ? { headers } : undefined;
        if (Array.isArray(to)) for (const s of to) ports.nc.publish(ports.subjects.push(s), payload, opts);
        else ports.nc.publish(ports.subjects.push(to), payload, opts);
        return undefined;
      }
      case 'forward': {
        const env = ctx.envelope;
        return ports.call(effect.to, effect.event).then(
          (body) => {
            if (env?.reply) {
              const reply = env.reply;
              env.reply = undefined;
              reply(body);
            }
          },
          (err: unknown) => {
            if (env?.fail) {
              const fail = env.fail;
              env.reply = undefined;
              env.fail = undefined;
              fail(err instanceof RelupError ? err : new RelupError('ACTOR_FAILED', String(err)));
            }
          },
        );
      }
      case 'send':
        ports.cast(effect.to, effect.event);
        return undefined;
      case 'close':
        onClose?.(ctx.actor.id, effect.reason ?? 'closed by the service');
        return undefined;
      default:
        throw new RelupError('BAD_MESSAGE', `unknown effect ${JSON.stringify(emitted.type)} emitted`);
    }
  };
}
