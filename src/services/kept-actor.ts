import type { EventObject } from 'xstate';
import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import { beginWrite, mustSnapshot, type StatePersistence, type StoredMark } from './state-persistence.ts';

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

/** What a host gives recordEvent: how to write an actor's record, asked only when a snapshot is due. */
export interface RecordHost<M extends StoredMark> {
  writer(p: StatePersistence, id: string, mark: M): RecordWriter;
}

/**
 * Writes a snapshot of a kept actor as it is now, with the journal position it covers (events
 * up to it are skipped at restore). A failed write leaves the mark so that the next pass
 * writes it again.
 */
export function writeSnapshot(actor: ActorHost, mark: StoredMark, write: RecordWriter): Promise<void> {
  const done = beginWrite(actor, mark);
  return write(actor.persist(), mark.journaled).then(
    () => done(true),
    (err: unknown) => {
      done(false);
      throw err;
    },
  );
}

/**
 * Makes the state a message left durable: the accepted event is journaled, or a snapshot is
 * written instead when one is due (see mustSnapshot).
 */
export function recordEvent<M extends StoredMark>(
  p: StatePersistence,
  journalKey: string,
  actor: ActorHost,
  mark: M,
  event: EventObject,
  host: RecordHost<M>,
): Promise<void> {
  if (mustSnapshot(actor, mark)) return writeSnapshot(actor, mark, host.writer(p, actor.id, mark));
  return p.journal.append(journalKey, actor.version, event).then((seq) => {
    mark.journaled = seq;
    mark.pending++;
  });
}
