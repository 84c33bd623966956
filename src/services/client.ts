import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { isNoResponders } from '../nats/no-responders.ts';
import { raiseIfError } from '../nats/reply.ts';
import { subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';

/** Options of a client session. */
export interface SessionOptions {
  prefix?: string;
  timeoutMs?: number;
  /** Called for every push (server-initiated message) in arrival order. */
  onPush?: (message: Record<string, unknown>) => void;
}

/**
 * A client session with a service: the same wire format any NATS client can speak
 * (request on `<prefix>.svc.<service>.connect`, then `<prefix>.ses.<id>` and its `.push`).
 */
export class Session {
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly id: string,
    private readonly pushSub: Subscription,
    private readonly timeoutMs: number,
  ) {}

  /** Opens a session; UNKNOWN_SERVICE when no node serves that service. */
  static async open(
    nc: NatsConnection,
    service: string,
    payload: Record<string, unknown>,
    opts: SessionOptions = {},
  ): Promise<Session> {
    const subjects = makeSubjects(opts.prefix);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const body = (await request(
      nc,
      subjects.connect(service),
      payload,
      timeoutMs,
      () => new RelupError('UNKNOWN_SERVICE', `no node serves service ${service}`, { service }),
    )) as { session: string };
    // Subscribe to pushes before anything can be pushed: the session does not push before its first message.
    const pushSub = nc.subscribe(subjects.push(body.session), {
      callback: (err, msg) => {
        if (!err) opts.onPush?.(decode(msg.data));
      },
    });
    await nc.flush();
    return new Session(nc, subjects, body.session, pushSub, timeoutMs);
  }

  /** Sends a message and waits for the reply body; an error reply throws a RelupError. */
  request(message: { type: string; [k: string]: unknown }): Promise<Record<string, unknown>> {
    return request(
      this.nc,
      this.subjects.session(this.id),
      message,
      this.timeoutMs,
      () =>
        new RelupError('UNKNOWN_SESSION', `session ${this.id} is unknown or closed`, { session: this.id }),
    ) as Promise<Record<string, unknown>>;
  }

  /** Sends a message without waiting for a reply. */
  send(message: { type: string; [k: string]: unknown }): void {
    this.nc.publish(this.subjects.session(this.id), encode(message));
  }

  /** Closes the session on the server and stops listening for pushes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.request({ type: 'close' });
    } finally {
      this.pushSub.unsubscribe();
    }
  }
}

async function request(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  timeoutMs: number,
  noResponders: () => RelupError,
): Promise<unknown> {
  let data: Uint8Array;
  try {
    data = (await nc.request(subject, encode(payload), { timeout: timeoutMs })).data;
  } catch (err) {
    if (isNoResponders(err)) throw noResponders();
    throw new RelupError('TIMEOUT', `no reply on ${subject} within ${timeoutMs} ms`, { subject });
  }
  return raiseIfError(decode(data));
}
