import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import type { EventJournal, JournaledEvent } from './event-journal.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/** What happens to a component's persisted state when its node restarts (see RestartModes). */
export type RestartMode = 'restart' | 'cleanup' | 'clear';

/** The restart mode of each component of a service. */
export interface ComponentRestartModes {
  /** The service itself: its named actors. */
  service: RestartMode;
  acceptor: RestartMode;
  channels: RestartMode;
}

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
   * logic of the version that accepted them, then migrated to version `to` (default the
   * running one) by the codeChange of the newer of the two. A caller that builds the actor
   * with logic it looked up earlier passes that logic's version: the running one may have
   * switched meanwhile (an upgrade's `load` step, or its undo). Throws STATE_NOT_MIGRATED when
   * that cannot be done; the stored state is then left untouched.
   */
  rebuild(
    service: string,
    kind: string,
    id: string,
    base: PersistedBase,
    events: JournaledEvent[],
    to?: string,
  ): Promise<VersionedSnapshot>;
  /** Logs a persistence problem that does not stop the node. */
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Where a persisted actor's state starts: a stored snapshot, or the initial state of a version from an input. */
export type PersistedBase = VersionedSnapshot | { version: string; input: unknown };

/**
 * What a host knows of one kept actor's stored state. Channels and named actors both carry it,
 * so one set of rules decides when a snapshot is written.
 */
export interface StoredMark {
  /** `actor.handled` when the snapshot was last written; -1: never, the next write is a snapshot. */
  saved: number;
  /** `actor.version` then: a hot upgrade swaps the logic without a message, and must be written too. */
  savedVersion: string;
  /** Stream sequence of the actor's last journaled event (0: none). */
  journaled: number;
  /** Stream sequence of the last event the stored snapshot covers. */
  covered: number;
  /** Events journaled since the stored snapshot. */
  pending: number;
  /** When the snapshot was last written (ms since the epoch). */
  savedAt: number;
  /** Snapshot writes in flight: the loop does not start another meanwhile. */
  writing: number;
}

/** A mark for an actor restored from (or written as) `version`, with what its store holds. */
export function storedMark(
  actor: ActorHost,
  written: boolean,
  version: string,
  journaled = 0,
  covered = 0,
  pending = 0,
): StoredMark {
  return {
    saved: written ? actor.handled : -1,
    savedVersion: version,
    journaled,
    covered,
    pending,
    savedAt: Date.now(),
    writing: 0,
  };
}

/** A durable actor writes a snapshot instead of its next event after this many: what a restore replays stays short. */
const SNAPSHOT_EVERY = 512;
/** Events older than this get a snapshot from the snapshot loop, bounding what a restore replays. */
const SNAPSHOT_AGE_MS = 30_000;

/**
 * True when a durable actor's next state change must be written as a snapshot rather than an
 * event: it has no current record (none yet, one another node wrote, or one that says nothing
 * follows it), its version changed (a journal never mixes versions), or many events wait.
 */
export function mustSnapshot(actor: ActorHost, mark: StoredMark): boolean {
  return mark.saved === -1 || actor.version !== mark.savedVersion || mark.pending >= SNAPSHOT_EVERY;
}

/**
 * True when the snapshot loop should write a kept actor now. Write-behind: it took a message
 * or had its logic swapped since the last write. Durable: never while a message is in flight
 * (its event is not yet journaled), else when its version changed or events wait since long.
 */
export function needsSnapshot(
  actor: ActorHost,
  mark: StoredMark,
  durability: Durability,
  now: number,
): boolean {
  const status = actor.status;
  if (status !== 'running' && status !== 'suspended') return false;
  if (mark.writing > 0) return false;
  if (durability === 'write-behind')
    return actor.handled !== mark.saved || actor.version !== mark.savedVersion;
  if (actor.inFlight) return false;
  if (mark.saved === -1 || actor.version !== mark.savedVersion) return true;
  return mark.pending > 0 && now - mark.savedAt >= SNAPSHOT_AGE_MS;
}

/**
 * Starts writing a snapshot of the actor as it is now: returns what to call once the write is
 * stored (true) or has failed (false). The mark moves only when the snapshot is stored, so the
 * journal keeps the events it covers until then.
 */
export function beginWrite(actor: ActorHost, mark: StoredMark): (stored: boolean) => void {
  const handled = actor.handled;
  const version = actor.version;
  const journaled = mark.journaled;
  const pending = mark.pending;
  mark.writing++;
  return (stored) => {
    mark.writing--;
    if (!stored) return;
    mark.saved = handled;
    mark.savedVersion = version;
    mark.covered = Math.max(mark.covered, journaled);
    mark.pending = Math.max(0, mark.pending - pending);
    mark.savedAt = Date.now();
  };
}

/** The oldest journal sequence a kept actor still needs (the first after its snapshot), or undefined when none. */
export function neededFrom(mark: StoredMark): number | undefined {
  return mark.pending > 0 ? mark.covered + 1 : undefined;
}
