import type { Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { renderError } from '../errors.ts';
import { respondOk } from '../nats/reply.ts';
import { ENGINE_VERSION } from '../release/engine-version.ts';
import type { NodeApi } from './node-api.ts';

/** The micro-service name every relup node answers to on `$SRV.*`. */
export const MICRO_NAME = 'relup';

/** Counters of the control endpoint, reported on `$SRV.STATS` (times in nanoseconds, as the protocol wants). */
export class EndpointStats {
  numRequests = 0;
  numErrors = 0;
  lastError = '';
  processingTimeNs = 0;

  /** Counts one request and how long it took; `error` as `CODE: message`. */
  record(durationMs: number, error?: string): void {
    this.numRequests++;
    this.processingTimeNs += Math.round(durationMs * 1e6);
    if (error !== undefined) {
      this.numErrors++;
      this.lastError = error;
    }
  }
}

/**
 * Answers the NATS micro-services discovery protocol (ADR-32) by hand, so `nats micro ls` and
 * `nats micro info relup` list the nodes: PING, INFO and STATS on `$SRV.<verb>`,
 * `$SRV.<verb>.relup` and `$SRV.<verb>.relup.<node>`. The instance id is the node id (unique
 * in the cluster); the one endpoint is the control subject, which is not a queue group.
 */
export function serveMicro(node: NodeApi, stats: EndpointStats, log?: Logger): Subscription[] {
  const started = new Date().toISOString();
  const control = node.subjects.control(node.id);
  const base = () => ({
    name: MICRO_NAME,
    id: node.id,
    version: ENGINE_VERSION,
    metadata: { node: node.id, release: node.release.version },
  });
  const answers = new Map<string, () => unknown>(
    Object.entries({
      PING: () => ({ type: 'io.nats.micro.v1.ping_response', ...base() }),
      INFO: () => ({
        type: 'io.nats.micro.v1.info_response',
        ...base(),
        description: 'relup node: operator commands (see docs/protocol.md)',
        endpoints: [{ name: 'control', subject: control, queue_group: '', metadata: null }],
      }),
      STATS: () => ({
        type: 'io.nats.micro.v1.stats_response',
        ...base(),
        started,
        endpoints: [
          {
            name: 'control',
            subject: control,
            queue_group: '',
            num_requests: stats.numRequests,
            num_errors: stats.numErrors,
            last_error: stats.lastError,
            processing_time: stats.processingTimeNs,
            average_processing_time:
              stats.numRequests === 0 ? 0 : Math.round(stats.processingTimeNs / stats.numRequests),
          },
        ],
      }),
    }),
  );
  return ['$SRV.*', `$SRV.*.${MICRO_NAME}`, `$SRV.*.${MICRO_NAME}.${node.id}`].map((subject) =>
    node.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return log?.warn({ subject, error: renderError(err) }, '$SRV subscription failed');
        const answer = answers.get(msg.subject.split('.')[1] ?? '');
        if (answer) respondOk(msg, answer());
      },
    }),
  );
}
