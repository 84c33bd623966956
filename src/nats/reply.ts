import type { Msg } from '@nats-io/nats-core';
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

/** Answers a request with a body (a missing body means `{ ok: true }`). */
export function respondOk(msg: Msg, body: unknown): void {
  if (msg.reply) msg.respond(encode(body === undefined ? { ok: true } : body));
}

/** Answers a request with an error reply. */
export function respondError(msg: Msg, err: unknown): void {
  if (msg.reply) msg.respond(encode(errorReply(err)));
}

/** Turns an error reply back into a RelupError on the requesting side. */
export function raiseIfError(body: unknown): unknown {
  const b = body as Partial<ErrorReply> | undefined;
  if (b && b.ok === false && b.error && typeof b.error.code === 'string') {
    throw new RelupError(b.error.code, b.error.message, b.error.details);
  }
  return body;
}
