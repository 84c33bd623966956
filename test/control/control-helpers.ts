import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';

/** A reply of the control protocol as a plain client sees it. */
export interface Reply {
  id: string | null;
  ok: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: tests read replies field by field
  result?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  error?: { code: string; message: string; details?: any };
}

/** Sends raw bytes (or a value, JSON-encoded) on `relup.ctl.<node>` and decodes the reply. */
export async function send(
  nc: NatsConnection,
  node: string,
  body: unknown,
  timeout = 20_000,
): Promise<Reply> {
  const data = body instanceof Uint8Array ? body : encode(body);
  const msg = await nc.request(`relup.ctl.${node}`, data, { timeout });
  return decode<Reply>(msg.data);
}

let seq = 0;

/** Sends `{ id, cmd, args }` to a node. */
export function command(
  nc: NatsConnection,
  node: string,
  cmd: string,
  args: Record<string, unknown> = {},
): Promise<Reply> {
  return send(nc, node, { id: `t${++seq}`, cmd, args });
}

/** One event of `relup.evt.<node>`. */
export interface Event {
  node: string;
  time: string;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read events field by field
  [k: string]: any;
}

/** Events of a node collected from subscription on, with a way to wait for one. */
export interface EventLog {
  readonly all: Event[];
  /** Resolves with the first event (already seen or to come) that matches. */
  waitFor(match: (e: Event) => boolean): Promise<Event>;
  stop(): void;
}

/** Subscribes to a node's events; resolves once the server knows the subscription. */
export async function watchEvents(nc: NatsConnection, node: string): Promise<EventLog> {
  const all: Event[] = [];
  const waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const sub = nc.subscribe(`relup.evt.${node}`, {
    callback: (_err, msg) => {
      const e = decode<Event>(msg.data);
      all.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
  });
  await nc.flush();
  return {
    all,
    waitFor(match) {
      const seen = all.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    stop: () => sub.unsubscribe(),
  };
}

/**
 * Subscribes (and flushes) to a subject; `message` resolves with its first message. Wrapped in
 * an object because an async function returning a promise would wait for it.
 */
export async function nextMessage(
  nc: NatsConnection,
  subject: string,
): Promise<{ message: Promise<unknown> }> {
  let resolve!: (v: unknown) => void;
  const got = new Promise<unknown>((r) => {
    resolve = r;
  });
  nc.subscribe(subject, { max: 1, callback: (_err, msg) => resolve(decode(msg.data)) });
  await nc.flush();
  return { message: got };
}
