import type { NatsConnection } from '@nats-io/nats-core';
import { encode } from '../nats/codec.ts';

/** A listener of node events; `allowInMaintenance` keeps it enabled in maintenance mode. */
export interface ListenerOptions {
  allowInMaintenance?: boolean;
}

type Listener = (event: NodeEvent) => void;

/** An event of a node, as published on `<prefix>.evt.<node>`. */
export interface NodeEvent {
  node: string;
  time: string;
  type: string;
  [field: string]: unknown;
}

/**
 * Node events: every event is published on the node's event subject, and handed to in-process
 * listeners — except, in maintenance mode,, to listeners not allowed there
 * (a listener reacting to business events must not act on a node under repair).
 */
export class NodeEvents {
  private readonly listeners: { type: string; fn: Listener; allowInMaintenance: boolean }[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly node: string,
    private readonly inMaintenance: () => boolean,
  ) {}

  /** Adds a listener for one event type or `*`; returns its removal. */
  on(type: string, fn: Listener, opts: ListenerOptions = {}): () => void {
    const entry = { type, fn, allowInMaintenance: opts.allowInMaintenance ?? false };
    this.listeners.push(entry);
    return () => {
      const i = this.listeners.indexOf(entry);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Publishes an event and runs the enabled listeners; a throwing listener does not stop the others. */
  emit(type: string, fields: Record<string, unknown> = {}): NodeEvent {
    const event: NodeEvent = { ...fields, node: this.node, time: new Date().toISOString(), type };
    if (!this.nc.isClosed()) this.nc.publish(this.subject, encode(event));
    const maintenance = this.inMaintenance();
    for (const l of [...this.listeners]) {
      if (l.type !== type && l.type !== '*') continue;
      if (maintenance && !l.allowInMaintenance) continue;
      try {
        l.fn(event);
      } catch {
        // A listener's failure is its own; events keep flowing.
      }
    }
    return event;
  }
}
