import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/** A component whose state is persisted: a service's named actors (`service`) or its `channels`. */
export type PersistedComponent = 'service' | 'channels';

/**
 * What service hosts and named actors need to keep their state across node restarts; the node's
 * restart modes implement it. Kept out of the hosts so they hold no timer or closure per actor:
 * one node-level loop flushes whatever handled a message since its last write.
 */
export interface StatePersistence {
  /** This node's id: the owner recorded with each snapshot. */
  readonly node: string;
  readonly store: SnapshotStore;
  /** True while the node stops gracefully: kept sessions are persisted and parked, not ended. */
  readonly stopping: boolean;
  /** True when the component's state is persisted and restored (restart mode `restart`). */
  keeps(service: string, component: PersistedComponent): boolean;
  /** True while a node's heartbeat is within its lease (see Presence). */
  isAlive(node: string): Promise<boolean>;
  /**
   * The snapshot to restore a persisted actor from: as it is when its version is the running
   * one, else migrated by the service's codeChange; undefined when it is dropped (logged).
   */
  migrate(service: string, kind: string, id: string, persisted: VersionedSnapshot): unknown;
  /** Logs a persistence problem that does not stop the node. */
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * True when a live actor changed since it was persisted (`saved`: its `handled` count then,
 * `savedVersion`: its version then): it took a message, or a hot upgrade swapped its logic.
 */
export function isDirty(actor: ActorHost, saved: number, savedVersion: string): boolean {
  const status = actor.status;
  if (status !== 'running' && status !== 'suspended') return false;
  return actor.handled !== saved || actor.version !== savedVersion;
}
