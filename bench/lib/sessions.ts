import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import type { Subjects } from '../../src/nats/subjects.ts';

/** Opens sessions through the real connect request (acceptor → channel) and returns their subjects. */
export async function connectSessions(
  nc: NatsConnection,
  subjects: Subjects,
  service: string,
  count: number,
  payload: (i: number) => Record<string, unknown>,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = await nc.request(subjects.connect(service), encode(payload(i)), { timeout: 10_000 });
    const body = decode<{ ok?: boolean; session?: string }>(m.data);
    if (!body.session) throw new Error(`connect to ${service} refused: ${JSON.stringify(body)}`);
    out.push(subjects.session(body.session));
  }
  return out;
}

/** Subscribes one echo responder per subject (raw NATS request/reply: the reply is the request's bytes). */
export function rawResponders(nc: NatsConnection, prefix: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const subject = `${prefix}.${i}`;
    nc.subscribe(subject, {
      callback: (_e, msg) => {
        msg.respond(msg.data);
      },
    });
    out.push(subject);
  }
  return out;
}

/** Ends sessions opened by connectSessions (a `close` request on each). */
export async function closeSessions(nc: NatsConnection, sessionSubjects: string[]): Promise<void> {
  await Promise.all(
    sessionSubjects.map((s) =>
      nc.request(s, encode({ type: 'close' }), { timeout: 10_000 }).catch(() => undefined),
    ),
  );
}
