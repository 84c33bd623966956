import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import { isNoResponders } from '../../src/nats/no-responders.ts';

/** A say the service acknowledged: `{ ok: true, seq }` for `text` in `room`. */
export interface Ack {
  client: number;
  room: string;
  seq: number;
  text: string;
  at: number;
}

/** What one chat client saw, from the wire. */
export interface ClientLog {
  readonly index: number;
  readonly user: string;
  readonly room: string;
  /** Its session id; undefined until the first connect succeeded. */
  session: string | undefined;
  sent: number;
  acked: number;
  /** When its last say was acknowledged (ms since epoch). */
  lastAckAt: number;
  /** Every `closed` push it received. */
  closes: { reason: string; resumable: boolean; at: number }[];
  /** Error replies and request failures by code (TIMEOUT, UNKNOWN_SESSION, …). */
  errors: Record<string, number>;
  /** How often it resumed its session on the connect subject. */
  resumes: number;
  /** The last failures with their time, at most {@link KEPT_FAILURES}. */
  failures: { at: number; code: string; op: string }[];
}

/** How many recent failures a client log keeps. */
export const KEPT_FAILURES = 20;

/** A running load: ≥ 40 chat clients saying numbered texts over their own connections. */
export interface Load {
  readonly acks: Ack[];
  readonly clients: ClientLog[];
  /** Total says sent (acknowledged or not). */
  sent(): number;
  /** Resolves once every client has an acknowledged say after `since` (ms since epoch); false on timeout. */
  allAckedSince(since: number, timeoutMs: number): Promise<boolean>;
  /** Stops every client loop and waits for the says in flight. */
  stop(): Promise<void>;
}

/** How a load is shaped. */
export interface LoadOptions {
  /** The client connections (clients are spread over them round robin). */
  conns: NatsConnection[];
  clients?: number;
  rooms?: number;
  /** Room names get this prefix, so every scenario starts with empty rooms. */
  roomPrefix: string;
  /** Pause between a client's says, default 300 ms. */
  intervalMs?: number;
  /** Request timeout, default 3 s. */
  timeoutMs?: number;
  /** Called for every acknowledgement. */
  onAck?: (ack: Ack) => void;
  /** Whether {@link Load.acks} keeps every acknowledgement, default true (a long run keeps them itself via onAck). */
  keepAcks?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An error reply's code, or the transport failure's. */
function failureCode(err: unknown): string {
  if (isNoResponders(err)) return 'NO_RESPONDERS';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.length < 40 ? code : 'TIMEOUT';
}

/** A reply body, or throws with the error reply's code. */
function body(data: Uint8Array): Record<string, unknown> {
  const r = decode<Record<string, unknown>>(data);
  if (r.ok === false) {
    const e = (r.error ?? {}) as { code?: string; message?: string };
    throw Object.assign(new Error(e.message ?? 'error reply'), { code: e.code ?? 'ERROR' });
  }
  return r;
}

/**
 * Starts the chat clients: each connects (`{ user, room }`), then says `u<i>-<n>` in a loop,
 * recording each acknowledgement. A say that fails is never retried with the same text (so
 * history shows no duplicate the client made); on a missing session the client resumes it on
 * the connect subject with `{ ..., session }`; `closed` pushes are recorded.
 */
export function startLoad(opts: LoadOptions): Load {
  const count = opts.clients ?? 40;
  const rooms = opts.rooms ?? 20;
  const interval = opts.intervalMs ?? 300;
  const timeout = opts.timeoutMs ?? 3_000;
  const acks: Ack[] = [];
  const clients: ClientLog[] = [];
  const subs: Subscription[] = [];
  let running = true;

  const loop = async (log: ClientLog, nc: NatsConnection) => {
    const listen = (session: string) => {
      subs.push(
        nc.subscribe(`relup.ses.${session}.push`, {
          callback: (err, msg) => {
            if (err) return;
            const push = decode<{ type?: string; reason?: string; resumable?: boolean }>(msg.data);
            if (push.type === 'closed')
              log.closes.push({
                reason: String(push.reason ?? ''),
                resumable: push.resumable === true,
                at: Date.now(),
              });
          },
        }),
      );
    };
    const fail = (err: unknown, op: string) => {
      const code = failureCode(err);
      log.errors[code] = (log.errors[code] ?? 0) + 1;
      log.failures.push({ at: Date.now(), code, op });
      if (log.failures.length > KEPT_FAILURES) log.failures.shift();
      return code;
    };
    const connectOnce = async () => {
      const payload = { user: log.user, room: log.room, ...(log.session && { session: log.session }) };
      const r = body((await nc.request('relup.svc.chat.connect', encode(payload), { timeout })).data);
      const session = r.session as string;
      if (log.session === undefined) listen(session);
      else if (session === log.session) log.resumes++;
      else throw Object.assign(new Error(`resume gave session ${session}`), { code: 'SESSION_REPLACED' });
      log.session = session;
    };
    let n = 0;
    let needConnect = true;
    while (running) {
      if (needConnect) {
        try {
          await connectOnce();
          needConnect = false;
        } catch (err) {
          fail(err, 'connect');
          await sleep(interval);
          continue;
        }
      }
      const text = `${log.user}-${n++}`;
      log.sent++;
      try {
        const data = (
          await nc.request(`relup.ses.${log.session}`, encode({ type: 'say', text }), { timeout })
        ).data;
        const seq = body(data).seq as number;
        const at = Date.now();
        const ack = { client: log.index, room: log.room, seq, text, at };
        if (opts.keepAcks !== false) acks.push(ack);
        opts.onAck?.(ack);
        log.acked++;
        log.lastAckAt = at;
      } catch (err) {
        const code = fail(err, 'say');
        // Nobody serves the session (its node is gone): resume it elsewhere.
        if (code === 'NO_RESPONDERS' || code === 'UNKNOWN_SESSION') needConnect = true;
      }
      await sleep(interval);
    }
  };

  const loops: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const log: ClientLog = {
      index: i,
      user: `u${i}`,
      room: `${opts.roomPrefix}${i % rooms}`,
      session: undefined,
      sent: 0,
      acked: 0,
      lastAckAt: 0,
      closes: [],
      errors: {},
      resumes: 0,
      failures: [],
    };
    clients.push(log);
    loops.push(loop(log, opts.conns[i % opts.conns.length] as NatsConnection));
  }

  return {
    acks,
    clients,
    sent: () => clients.reduce((s, c) => s + c.sent, 0),
    async allAckedSince(since, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (clients.every((c) => c.lastAckAt > since)) return true;
        await sleep(50);
      }
      return false;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const s of subs) s.unsubscribe();
    },
  };
}
