import { setTimeout as delay } from 'node:timers/promises';
import { jwtAuthenticator, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { createUser, type KeyPair } from '@nats-io/nkeys';
import { connect } from '@nats-io/transport-node';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { isNoResponders } from '../nats/no-responders.ts';
import { raiseIfError } from '../nats/reply.ts';
import { subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';
import { RENEW, type SessionCredentials } from './session-credentials.ts';

/** Options of a client session. */
export interface SessionOptions {
  prefix?: string;
  timeoutMs?: number;
  /** Called for every push (server-initiated message) in arrival order. */
  onPush?: (message: Record<string, unknown>) => void;
  /**
   * Where the session's own connection goes when the node hands out credentials (JWT auth),
   * default the server the opening connection is on.
   */
  servers?: string | string[];
  /**
   * How long a request may spend resuming the session when no node serves it (its node handed it
   * over, stopped or died): the request reconnects with the session id, retrying while no node
   * admits it yet, then sends the message again. Default 0: such a request fails UNKNOWN_SESSION
   * at once. Only a message no node received is sent again; a timeout is never retried.
   */
  resumeWithinMs?: number;
}

/** Errors of a resume that another try will not change (a refusal that says `retry` excepted). */
const FINAL_RESUME_ERRORS = new Set(['UNKNOWN_SESSION', 'BAD_MESSAGE', 'FORBIDDEN', 'SESSION_REFUSED']);

/** What the node told the session about its end: set by a `closed` push that does not say `resumable`. */
interface SessionEnd {
  reason?: string;
}

/** The session's own connection and the credentials it signs in with (JWT auth). */
interface OwnConnection {
  nc: NatsConnection;
  credentials: SessionCredentials;
  renewal: ReturnType<typeof setTimeout> | undefined;
}

/**
 * A client session with a service: the same wire format any NATS client can speak
 * (request on `<prefix>.svc.<service>.connect`, then `<prefix>.ses.<id>` and its `.push`).
 * The client sends a public key of its own; when the node answers with credentials for it
 * (decentralized JWT auth), the session talks over a connection of its own as that user, which
 * may reach only its own session, pushes and inbox, and renews them before they expire.
 */
export class Session {
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly id: string,
    private readonly pushSub: Subscription,
    private readonly timeoutMs: number,
    private readonly own: OwnConnection | undefined,
    /** Reconnects with the session id (and what proved the session's standing when it opened). */
    private readonly reconnect: () => Promise<{ credentials?: SessionCredentials }>,
    private readonly resumeWithinMs: number,
    private readonly end: SessionEnd,
  ) {
    if (own) this.scheduleRenewal();
  }

  /** Opens a session; UNKNOWN_SERVICE when no node serves that service. */
  static async open(
    nc: NatsConnection,
    service: string,
    payload: Record<string, unknown>,
    opts: SessionOptions = {},
  ): Promise<Session> {
    const subjects = makeSubjects(opts.prefix);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const connectTo = (body: Record<string, unknown>) =>
      request(
        nc,
        subjects.connect(service),
        body,
        timeoutMs,
        () => new RelupError('UNKNOWN_SERVICE', `no node serves service ${service}`, { service }),
      ) as Promise<{ session: string; credentials?: SessionCredentials }>;
    // A key is made only when the node asks for one (JWT auth): making it costs milliseconds.
    let user: KeyPair | undefined;
    const body = await connectTo(payload).catch((err: unknown) => {
      if (!needsKey(err)) throw err;
      user = createUser();
      return connectTo({ ...payload, key: user.getPublicKey() });
    });
    const own =
      body.credentials && user ? await ownConnection(nc, user, body.credentials, opts.servers) : undefined;
    const conn = own?.nc ?? nc;
    // Subscribe to pushes before anything can be pushed: the session does not push before its first message.
    const end: SessionEnd = {};
    const pushSub = conn.subscribe(subjects.push(body.session), {
      callback: (err, msg) => {
        if (err) return;
        const push = decode<Record<string, unknown>>(msg.data);
        // The node ended the session for good (closed, disconnected): nothing to resume.
        if (push?.type === 'closed' && push.resumable !== true) end.reason = String(push.reason ?? 'closed');
        opts.onPush?.(push);
      },
    });
    await conn.flush();
    // A resume presents what the open did: the key the session is bound to, a super-admin's token.
    const standing = {
      ...(payload.role !== undefined && { role: payload.role }),
      ...(payload.token !== undefined && { token: payload.token }),
      ...((user || payload.key !== undefined) && { key: user?.getPublicKey() ?? payload.key }),
    };
    const reconnect = () => connectTo({ ...standing, session: body.session });
    return new Session(
      conn,
      subjects,
      body.session,
      pushSub,
      timeoutMs,
      own,
      reconnect,
      opts.resumeWithinMs ?? 0,
      end,
    );
  }

  /** When the session's credentials expire (ms since the epoch); undefined without JWT auth. */
  get expires(): number | undefined {
    return this.own?.credentials.expires;
  }

  /**
   * Sends a message and waits for the reply body; an error reply throws a RelupError. When no
   * node serves the session and `resumeWithinMs` allows, resumes it and sends the message again.
   */
  async request(message: { type: string; [k: string]: unknown }): Promise<Record<string, unknown>> {
    const until = Date.now() + this.resumeWithinMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await request(
          this.nc,
          this.subjects.session(this.id),
          message,
          this.timeoutMs,
          () =>
            new RelupError('UNKNOWN_SESSION', `session ${this.id} is unknown or closed`, {
              session: this.id,
              undelivered: true,
            }),
        )) as Record<string, unknown>;
      } catch (err) {
        // Resent only when no node received it (a session subject without a subscriber), and
        // not for a session the node ended.
        if (!undelivered(err) || this.end.reason !== undefined || Date.now() >= until) throw err;
      }
      // Admitted, yet still nobody serves it (a dead node's lease still runs): wait before the next try.
      if (attempt > 0) await delay(backoff(attempt));
      await this.resume(until);
    }
  }

  /** Reconnects with the session id until a node admits it, or fails with the last refusal at `until`. */
  private async resume(until: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const wait = backoff(attempt);
      try {
        const body = await this.reconnect();
        if (this.own && body.credentials) this.own.credentials = body.credentials;
        return;
      } catch (err) {
        if (isFinal(err) || this.end.reason !== undefined || Date.now() + wait >= until) throw err;
      }
      await delay(wait);
    }
  }

  /** Sends a message without waiting for a reply. */
  send(message: { type: string; [k: string]: unknown }): void {
    this.nc.publish(this.subjects.session(this.id), encode(message));
  }

  /**
   * Asks for fresh credentials now (done on its own at two thirds of their life); the next
   * reconnect, at the latest when the old ones expire, signs in with them.
   */
  async renew(): Promise<void> {
    const own = this.own;
    if (!own) return;
    const body = await this.request({ type: RENEW });
    if (body.credentials) own.credentials = body.credentials as SessionCredentials;
    this.scheduleRenewal();
  }

  /** Closes the session on the server and stops listening for pushes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.own?.renewal);
    try {
      await this.request({ type: 'close' });
    } finally {
      this.pushSub.unsubscribe();
      await this.own?.nc.close().catch(() => {});
    }
  }

  private scheduleRenewal(): void {
    const own = this.own;
    if (!own || this.closed) return;
    clearTimeout(own.renewal);
    const left = own.credentials.expires - Date.now();
    own.renewal = setTimeout(
      () => {
        // A failed renewal is retried at the next tick of the same schedule, until expiry.
        this.renew().catch(() => this.scheduleRenewal());
      },
      Math.max(left / 3, 250),
    );
    own.renewal.unref?.();
  }
}

/** Connects as the session's own user; the JWT is read at every (re)connect, so a renewed one is used. */
async function ownConnection(
  nc: NatsConnection,
  user: KeyPair,
  credentials: SessionCredentials,
  servers: string | string[] | undefined,
): Promise<OwnConnection> {
  const own: OwnConnection = { nc, credentials, renewal: undefined };
  try {
    own.nc = await connect({
      servers: servers ?? nc.getServer(),
      authenticator: jwtAuthenticator(
        () => own.credentials.jwt,
        () => user.getSeed(),
      ),
      inboxPrefix: credentials.inboxPrefix,
      maxReconnectAttempts: -1,
      name: 'relup-session',
    });
  } catch (err) {
    throw new RelupError(
      'NATS_UNAVAILABLE',
      `the session's own connection failed: ${(err as Error).message}`,
    );
  }
  return own;
}

/** 25 ms doubling up to 500 ms between tries of a resume. */
const backoff = (attempt: number) => Math.min(25 * 2 ** attempt, 500);

function isFinal(err: unknown): boolean {
  const e = err as RelupError;
  return FINAL_RESUME_ERRORS.has(e.code) && (e.details as { retry?: unknown } | undefined)?.retry !== true;
}

function undelivered(err: unknown): boolean {
  return (
    err instanceof RelupError && (err.details as { undelivered?: unknown } | undefined)?.undelivered === true
  );
}

function needsKey(err: unknown): boolean {
  return (
    err instanceof RelupError &&
    err.code === 'BAD_MESSAGE' &&
    (err.details as { needsKey?: unknown } | undefined)?.needsKey === true
  );
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
