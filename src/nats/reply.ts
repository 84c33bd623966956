import type { Msg, MsgHdrs } from '@nats-io/nats-core';
import { type ErrorBody, RelupError, toRelupError } from '../errors.ts';
import { encode } from './codec.ts';

/** The wire form of a failed request: `{ ok: false, error: { code, message, details? } }`. */
export interface ErrorReply {
  ok: false;
  error: ErrorBody;
}

/** Builds the error reply for anything thrown. */
export function errorReply(err: unknown): ErrorReply {
  return { ok: false, error: toRelupError(err).toJSON() };
}

/** Answers a request with a body (a missing body means `{ ok: true }`), with `headers` when given. */
export function respondOk(msg: Msg, body: unknown, headers?: MsgHdrs): void {
  if (msg.reply)
    msg.respond(encode(body === undefined ? { ok: true } : body), headers ? { headers } : undefined);
}

/** Answers a request with an error reply, with `headers` when given. */
export function respondError(msg: Msg, err: unknown, headers?: MsgHdrs): void {
  if (msg.reply) msg.respond(encode(errorReply(err)), headers ? { headers } : undefined);
}

/** Turns an error reply back into a RelupError on the requesting side. */
export function raiseIfError(body: unknown): unknown {
  const b = body as Partial<ErrorReply> | undefined;
  if (b && b.ok === false && b.error && typeof b.error.code === 'string') {
    throw new RelupError(b.error.code, b.error.message, b.error.details);
  }
  return body;
}
