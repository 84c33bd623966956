import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import type { EventJournal, JournaledEvent } from './event-journal.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/** A component whose state is persisted: a service's named actors (`service`) or its `channels`. */
export type PersistedComponent = 'service' | 'channels';

/**
 * How a kept component's state reaches the store:
 * - `durable`: a message that changes an actor's state is journaled, and its reply (and every
 *   other effect) goes out only once JetStream has stored it; snapshots compact the journal.
 * - `write-behind`: replies go out at once; snapshots are written every flush period, so a
 *   crash loses what changed since the last flush.
 */
export type Durability = 'durable' | 'write-behind';

/**
 * What service hosts and named actors need to keep their state across node restarts; the node's
 * restart modes implement it. Kept out of the hosts so they hold no timer or closure per actor:
 * one node-level loop writes snapshots of whatever changed since its last write.
 */
export interface StatePersistence {
  /** This node's id: the owner recorded with each snapshot. */
  readonly node: string;
  readonly store: SnapshotStore;
  readonly journal: EventJournal;
  /** True while the node stops gracefully: kept sessions are persisted and parked, not ended. */
  readonly stopping: boolean;
  /** True when the component's state is persisted and restored (restart mode `restart`). */
  keeps(service: string, component: PersistedComponent): boolean;
  /** How the service's kept state is written. */
  durability(service: string): Durability;
  /** True while a node's heartbeat is within its lease (see Presence). */
  isAlive(node: string): Promise<boolean>;
  /**
   * The state of a persisted actor as the running version sees it: its snapshot (or its
   * initial state from `input` when it has none) with its journaled events replayed by the
   * logic of the version that accepted them, then migrated to the running version by the
   * codeChange of the newer of the two. Throws STATE_NOT_MIGRATED when that cannot be done;
   * the stored state is then left untouched.
   */
  rebuild(
    service: string,
    kind: string,
    id: string,
    base: PersistedBase,
    events: JournaledEvent[],
  ): Promise<VersionedSnapshot>;
  /** Logs a persistence problem that does not stop the node. */
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Where a persisted actor's state starts: a stored snapshot, or the initial state of a version from an input. */
export type PersistedBase = VersionedSnapshot | { version: string; input: unknown };

/**
 * What a host knows of one kept actor's stored state. Channels and named actors both carry it,
 * so one set of rules decides what the snapshot loop writes.
 */
export interface StoredMark {
  /** `actor.handled` when the snapshot was last written; -1: never, the next pass writes it. */
  saved: number;
  /** `actor.version` then: a hot upgrade swaps the logic without a message, and must be written too. */
  savedVersion: string;
  /** Sequence of the actor's last journaled event (0: none). */
  journaled: number;
  /** Sequence of the last event the stored snapshot covers. */
  covered: number;
  /** When the snapshot was last written (ms, monotonic enough: Date.now()). */
  savedAt: number;
}

/** A mark for an actor restored from (or written as) `version`, its journal at `journaled` and its snapshot covering `covered`. */
export function storedMark(
  actor: ActorHost,
  written: boolean,
  version: string,
  journaled = 0,
  covered = 0,
): StoredMark {
  return {
    saved: written ? actor.handled : -1,
    savedVersion: version,
    journaled,
    covered,
    savedAt: Date.now(),
  };
}

/** How many journaled events, or how long, before a durable actor's snapshot is written (compaction). */
const COMPACT_EVENTS = 2000;
const COMPACT_AGE_MS = 30_000;

/**
 * True when the snapshot loop should write a kept actor now. Write-behind: it took a message
 * or had its logic swapped since the last write. Durable: its snapshot was never written, its
 * version changed, or its journal grew long or old; and never while a message is in flight
 * (the journal sequence would not yet cover the state being written).
 */
export function needsSnapshot(
  actor: ActorHost,
  mark: StoredMark,
  durability: Durability,
  now: number,
): boolean {
  const status = actor.status;
  if (status !== 'running' && status !== 'suspended') return false;
  if (durability === 'write-behind')
    return actor.handled !== mark.saved || actor.version !== mark.savedVersion;
  if (actor.inFlight) return false;
  if (mark.saved === -1 || actor.version !== mark.savedVersion) return true;
  const pending = mark.journaled - mark.covered;
  return pending > 0 && (pending >= COMPACT_EVENTS || now - mark.savedAt >= COMPACT_AGE_MS);
}

/** Records in the mark that a snapshot of the actor as it is now is being written; returns the undo for a failed write. */
export function markWritten(actor: ActorHost, mark: StoredMark): () => void {
  const prev = { ...mark };
  mark.saved = actor.handled;
  mark.savedVersion = actor.version;
  mark.covered = mark.journaled;
  mark.savedAt = Date.now();
  // A failed write is written again by the next pass, and until a snapshot of the new version
  // is stored, the journal must not take events of that version.
  return () => {
    mark.saved = -1;
    mark.savedVersion = prev.savedVersion;
    mark.covered = Math.min(mark.covered, prev.covered);
  };
}
