import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { respondError } from '../nats/reply.ts';
import { stampTerm } from '../nats/term-header.ts';
import type { PairRunner, PairTransitionEvent } from './pair-runner.ts';

/** The subjects of a redundant pair under a prefix (default `relup`). */
export const pairSubjects = (prefix = 'relup') => ({
  /** Operator requests to one node's side of a pair: `{ op: 'status' | 'failover' | 'scan' | 'undeploy', scan? }`. */
  control: (service: string, node: string) => `${prefix}.pair.${service}.${node}`,
  /** Every transition of the pair on any node, stamped with the term. */
  events: (service: string) => `${prefix}.pair.${service}.evt`,
});

const OPS = new Set(['status', 'failover', 'scan', 'undeploy']);
// An operator request is a few fields; anything bigger is not one.
const MAX_REQUEST_BYTES = 4096;

/** Serves operator requests for one node's side of a pair and publishes its transitions. */
export class PairControl {
  private constructor(private readonly sub: Subscription) {}

  /**
   * Subscribes `relup.pair.<service>.<node>` for `status`, `failover`, `scan` and `undeploy` requests; a
   * malformed one is BAD_COMMAND and changes nothing, a command the node cannot take (not the
   * active) is NOT_ACTIVE. Replies and events carry the term headers.
   */
  static serve(
    nc: NatsConnection,
    runner: () => PairRunner | undefined,
    service: string,
    node: string,
    prefix?: string,
  ) {
    const s = pairSubjects(prefix);
    const sub = nc.subscribe(s.control(service, node), {
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          try {
            if (msg.data.length > MAX_REQUEST_BYTES)
              throw new RelupError('BAD_COMMAND', `a pair request is at most ${MAX_REQUEST_BYTES} bytes`);
            const req =
              msg.data.length === 0 ? { op: 'status' } : decode<{ op?: unknown; scan?: unknown }>(msg.data);
            if (typeof req.op !== 'string' || !OPS.has(req.op))
              throw new RelupError('BAD_COMMAND', `op must be one of ${[...OPS].join(', ')}`, { op: req.op });
            if (req.op === 'scan' && req.scan !== 'on' && req.scan !== 'off')
              throw new RelupError('BAD_COMMAND', 'scan must be on or off', { scan: req.scan });
            const r = runner();
            if (!r)
              throw new RelupError('NOT_ACTIVE', `${service} is not deployed on ${node}`, { service, node });
            if (req.op === 'failover') await r.failover();
            if (req.op === 'scan') await r.setScan(req.scan as 'on' | 'off');
            if (req.op === 'undeploy') await r.undeploy();
            const status = r.status();
            const fence = r.fence();
            // The active's reply carries its term, so a client can tell a deposed active's answer.
            if (msg.reply)
              msg.respond(encode({ ok: true, status }), fence ? { headers: stampTerm(fence) } : {});
          } catch (err) {
            respondError(msg, err);
          }
        })();
      },
    });
    return new PairControl(sub);
  }

  /** Publishes a transition on the pair's event subject (its term is in the body: standbys send them too). */
  static publish(nc: NatsConnection, e: PairTransitionEvent, prefix?: string): void {
    nc.publish(pairSubjects(prefix).events(e.service), encode(e));
  }

  /** Stops serving. */
  stop(): void {
    this.sub.unsubscribe();
  }
}
