import type { NatsConnection } from '@nats-io/nats-core';

/** The text of the first error (e.g. a permissions violation) the server reports on a connection. */
export async function firstViolation(nc: NatsConnection): Promise<string> {
  for await (const s of nc.status()) if (s.type === 'error') return String((s as { error?: Error }).error);
  throw new Error('connection closed without an error');
}
