import type { EventObject } from 'xstate';
import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import { markWritten, type StatePersistence, type StoredMark } from './state-persistence.ts';

/** The journal key of a channel session (node-independent: a session keeps its journal when it moves). */
export function channelJournalKey(service: string, session: string): string {
  return `ch.${service}.${session}`;
}

/** The journal key of a named actor. */
export function namedJournalKey(name: string): string {
  return `na.${name}`;
}

/** Writes a kept actor's record: its persisted snapshot and the last journal sequence it covers. */
export type RecordWriter = (snapshot: VersionedSnapshot, journalSeq: number) => Promise<void>;

/**
 * Writes a snapshot of a kept actor as it is now, then drops the journaled events it covers.
 * A failed write leaves the mark so that the next pass writes it again.
 */
export function writeSnapshot(
  p: StatePersistence,
  journalKey: string,
  actor: ActorHost,
  mark: StoredMark,
  write: RecordWriter,
): Promise<void> {
  const undo = markWritten(actor, mark);
  const covered = mark.covered;
  return write(actor.persist(), covered).then(
    () => {
      // Best effort: events the snapshot covers are skipped at restore whether purged or not.
      if (covered > 0)
        p.journal.compact(journalKey, covered).catch((err: unknown) =>
          p.warn('journal compaction failed; retried at the next snapshot', {
            key: journalKey,
            error: String(err),
          }),
        );
    },
    (err: unknown) => {
      undo();
      throw err;
    },
  );
}

/**
 * Makes the state a message left durable: the accepted event is journaled, or, when the
 * actor's version differs from its stored snapshot's (a hot upgrade swapped its logic), a
 * snapshot of the new version is written instead, so a journal never mixes versions.
 */
export function recordEvent(
  p: StatePersistence,
  journalKey: string,
  actor: ActorHost,
  mark: StoredMark,
  event: EventObject,
  write: RecordWriter,
): Promise<void> {
  if (actor.version !== mark.savedVersion) return writeSnapshot(p, journalKey, actor, mark, write);
  return p.journal.append(journalKey, actor.version, event).then((seq) => {
    mark.journaled = seq;
  });
}

/** Deletes a kept actor's stored state: its record, then its journal. */
export async function forgetStored(p: StatePersistence, storeKey: string, journalKey: string): Promise<void> {
  await p.store.delete(storeKey);
  await p.journal.remove(journalKey);
}
