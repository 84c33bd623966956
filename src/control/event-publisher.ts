import type { Logger } from 'pino';
import { renderError } from '../errors.ts';
import type { NodeEvents } from '../node/node-events.ts';

/** Publishes events of one node on `relup.evt.<node>` and of its lifecycle. */
export interface EventPublisher {
  /** The subject events go to. */
  readonly subject: string;
  /** Publishes `{ node, time, type, ...fields }` (time: now, ISO 8601). Never throws. */
  publish(type: string, fields?: Record<string, unknown>): void;
}

/**
 * The control server's view of the node's events: the node's own NodeEvents, so command and
 * upgrade events reach in-process listeners too and there is one publisher per node.
 */
export function createEventPublisher(events: NodeEvents, subject: string, log?: Logger): EventPublisher {
  return {
    subject,
    publish(type, fields = {}) {
      // Events are progress reports, not part of any command's outcome: a draining connection
      // must not turn a finished upgrade into a failure.
      try {
        events.emit(type, fields);
      } catch (err) {
        log?.debug({ type, error: renderError(err) }, 'cannot publish event');
      }
    },
  };
}
