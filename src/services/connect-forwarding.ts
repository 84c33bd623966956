import { headers, type Msg, type NatsConnection } from '@nats-io/nats-core';
import type { RelupError } from '../errors.ts';
import { respondError } from '../nats/reply.ts';
import type { Subjects } from '../nats/subjects.ts';

/** Marks a connect a node passed on, so it is never passed on twice. */
const FORWARDED = 'Relup-Forwarded';

/** How long a node waits for a serving node to answer a connect it passed on. */
const FORWARD_TIMEOUT_MS = 5000;

/**
 * A connect this node refuses (maintenance) is passed on to the nodes that admit everyone: the
 * acceptors of a service sit in one queue group, which picks a member at random, so without this
 * a node in maintenance would refuse connects another node serves. The client gets the serving
 * node's answer as it is; only when no node answers is it refused, with the reason.
 */
export function forwardOrRefuse(
  nc: NatsConnection,
  subjects: Subjects,
  service: string,
  msg: Msg,
  refusal: RelupError,
): void {
  if (!msg.reply || msg.headers?.get(FORWARDED)) {
    respondError(msg, refusal);
    return;
  }
  const h = headers();
  h.set(FORWARDED, '1');
  nc.request(subjects.forwarded(service), msg.data, { timeout: FORWARD_TIMEOUT_MS, headers: h }).then(
    (answer) => msg.respond(answer.data),
    () => respondError(msg, refusal),
  );
}
