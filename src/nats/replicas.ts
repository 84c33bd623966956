import type { NatsConnection, ServerInfo } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';

/** The most replicas detection picks: three copies survive the loss of any one server. */
export const DETECTED_MAX_REPLICAS = 3;

// JetStream refuses more replicas than this.
const MAX_REPLICAS = 5;

/**
 * The replica count the server a connection is on suggests, from the INFO it sends clients: 1
 * when it is in no cluster, else the number of servers whose client URLs it advertises (its own
 * included), at most {@link DETECTED_MAX_REPLICAS}. A cluster that advertises no URLs hides its
 * size, so it counts as {@link DETECTED_MAX_REPLICAS}: a create then fails loudly on a smaller
 * cluster rather than silently keeping a single copy.
 */
export function detectReplicas(info: ServerInfo | undefined): number {
  if (!info?.cluster) return 1;
  const servers = new Set(info.connect_urls ?? []).size;
  return Math.min(DETECTED_MAX_REPLICAS, servers === 0 ? DETECTED_MAX_REPLICAS : servers);
}

/** The replica count relup's buckets, object store and streams get on `nc`: `configured` when given, else detected. */
export function replicasFor(nc: NatsConnection, configured?: number): number {
  return configured === undefined ? detectReplicas(nc.info) : parseReplicas(configured);
}

/** Checks a configured replica count (a flag, an env value or an option): an integer from 1 to 5, else BAD_OPTIONS. */
export function parseReplicas(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS)
    throw new RelupError(
      'BAD_OPTIONS',
      `replicas must be an integer from 1 to ${MAX_REPLICAS}, not ${value}`,
      {
        replicas: value,
      },
    );
  return n;
}
