import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { RelupError } from '../../errors.ts';
import { respondError } from '../../nats/reply.ts';
import type { Subjects } from '../../nats/subjects.ts';
import { forwardOrRefuse } from '../../services/connect-forwarding.ts';

/**
 * Answers connect requests of services that maintenance stopped: a client learns why it is
 * refused and until when, instead of hearing nothing (no responders) as if the service never
 * existed. It sits in the real acceptors' queue group, so it passes a connect on to a node that
 * serves the service (forwardOrRefuse) and refuses it only when none does.
 */
export class HeldAcceptors {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly refusal: () => RelupError | undefined,
  ) {}

  /** Starts refusing connects to a held service. */
  hold(service: string): void {
    if (this.subs.has(service)) return;
    const sub = this.nc.subscribe(this.subjects.connect(service), {
      queue: this.subjects.queue(service),
      callback: (err, msg) => {
        // A subscription error (e.g. a permission violation) closes it; there is no message to answer.
        if (err) return;
        // Maintenance may have just ended while the service restarts: still answer, never drop.
        const refusal = this.refusal();
        if (refusal) forwardOrRefuse(this.nc, this.subjects, service, msg, refusal);
        else
          respondError(
            msg,
            new RelupError('SESSION_REFUSED', `service ${service} is starting again; connect again`, {
              service,
              retry: true,
            }),
          );
      },
    });
    this.subs.set(service, sub);
  }

  /** Stops refusing (the service starts again, or the node stops). */
  release(service: string): void {
    const sub = this.subs.get(service);
    this.subs.delete(service);
    void sub?.drain().catch(() => {});
  }

  /** Stops refusing for every service. */
  releaseAll(): void {
    for (const s of [...this.subs.keys()]) this.release(s);
  }
}
