import type { ActorHost } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';
import { isSubjectToken } from '../nats/subjects.ts';
import type { JournaledEvent } from './event-journal.ts';
import { channelJournalKey, namedJournalKey } from './kept-actor.ts';
import { type ChannelRecord, namedKey } from './snapshot-store.ts';
import type { StatePersistence } from './state-persistence.ts';

/** The side of a service host that restoring a session needs (a `ServiceHost` is one). */
export interface SessionHost {
  readonly name: string;
  hasSession(session: string): boolean;
  openChannel(
    session: string,
    input: Record<string, unknown>,
    restored?: RestoredState,
    adminProof?: string,
  ): ActorHost;
  /** The super-admin proof of a stored session, when a token configured now made it. */
  honouredProof(rec: ChannelRecord): string | undefined;
  persistSession(session: string): Promise<void>;
  /** True while this node alone may serve the service (the active of a redundant pair). */
  readonly servesAlone: boolean;
}

/** The reply to a connect request that resumed a session. */
export interface ResumedReply {
  ok: true;
  session: string;
  resumed: true;
}

/** A persisted actor's state rebuilt for the running version, with what its store holds of it. */
export interface RestoredState {
  /** The version its stored snapshot was written by (a different one makes the next write a snapshot). */
  storedVersion: string;
  /** The snapshot, migrated to the running version. */
  snapshot: unknown;
  /** Sequence of its last journaled event. */
  journaled: number;
  /** Sequence of the last event its stored snapshot covers. */
  covered: number;
  /** Events replayed on top of the stored snapshot. */
  pending: number;
  /**
   * False when the next state change must rewrite the record before anything is journaled (a
   * record written at a graceful stop says nothing follows it, which stops being true).
   */
  current: boolean;
}

/**
 * A persisted session's state for the running version: its snapshot and the events journaled
 * since, migrated. Throws (STATE_NOT_MIGRATED) when that cannot be done; nothing is changed then.
 * `events` are the session's journaled events when the caller read them already.
 */
async function rebuildChannel(
  host: SessionHost,
  p: StatePersistence,
  rec: ChannelRecord,
  events?: JournaledEvent[],
): Promise<RestoredState> {
  const covered = rec.journalSeq ?? 0;
  const journal =
    events ??
    (rec.final ? [] : await p.journal.eventsOf(rec.node, channelJournalKey(host.name, rec.session), covered));
  const state = await p.rebuild(host.name, 'channel', rec.session, rec.snapshot, journal);
  return {
    storedVersion: rec.snapshot.version,
    snapshot: state.snapshot,
    journaled: journal.at(-1)?.seq ?? covered,
    covered,
    pending: journal.length,
    // A record of another node's, or one that says nothing follows it, is rewritten before anything is journaled.
    current: rec.final !== true && rec.node === p.node,
  };
}

/**
 * Opens a live channel from a persisted session (see rebuildChannel). Throws when its state
 * cannot be brought to the running version or does not restore into the channel logic: the
 * record is then kept untouched, never dropped.
 */
export async function restoreChannel(
  host: SessionHost,
  p: StatePersistence,
  rec: ChannelRecord,
  events?: JournaledEvent[],
): Promise<ActorHost> {
  return host.openChannel(
    rec.session,
    rec.input,
    await rebuildChannel(host, p, rec, events),
    host.honouredProof(rec),
  );
}

/**
 * A client reconnects with `{ session }`: live here → resumed; persisted by a node that is
 * alive → resumed too (it hosts the session, whose subject reaches it from anywhere); persisted
 * by a node that is gone (or by this one) → restored here, taking the record over with a
 * compare-and-set so two nodes never both restore it; else UNKNOWN_SESSION. "Alive" is the
 * heartbeat lease: a reconnect while a crashed node's lease runs is answered `resumed` though
 * nobody serves the session yet; once the lease lapses, a reconnect restores it.
 */
export async function resumeSession(
  host: SessionHost,
  p: StatePersistence,
  session: unknown,
  presented: (session: string) => string | undefined,
): Promise<ResumedReply> {
  if (typeof session !== 'string' || !isSubjectToken(session))
    throw new RelupError('BAD_MESSAGE', 'session must be a session id');
  const resumed: ResumedReply = { ok: true, session, resumed: true };
  if (host.hasSession(session)) return resumed;
  const unknown = () =>
    new RelupError('UNKNOWN_SESSION', `session ${session} is closed or was never persisted`, { session });
  if (!p.keeps(host.name, 'channels')) throw unknown();
  const found = await p.store.findChannel(host.name, session);
  if (!found) throw unknown();
  const from = found.value.node;
  // A live node hosts its sessions, except those it parked (handed over, stopping) and those of a
  // service only this node may serve now (the writer was fenced when this node became the active).
  if (from !== p.node && !found.value.final && !host.servesAlone && (await p.isAlive(from))) return resumed;
  // Rebuilt before the record is taken over: a state this version cannot serve stays where it is.
  const state = await rebuildChannel(host, p, found.value);
  // Lost: another node took the session over first, and hosts it now.
  if (from !== p.node && !(await p.store.delete(found.key, found.revision))) return resumed;
  // A concurrent reconnect on this node may have restored it while we waited on the store.
  if (host.hasSession(session)) return resumed;
  host.openChannel(session, found.value.input, state, presented(session) ?? host.honouredProof(found.value));
  if (from !== p.node) await host.persistSession(session);
  return resumed;
}

/**
 * The state a named actor being claimed starts from: its persisted snapshot and the events
 * journaled since, when the service's named actors are kept; else undefined (and a record an
 * earlier owner left is deleted, so it cannot come back after this owner's state moved on).
 * Journaled events count only after a record: a durable actor writes its first state change
 * as a snapshot. The state is brought to `version`, the version of the logic the actor will
 * run. Throws STATE_NOT_MIGRATED when the stored state cannot be brought to it: the claim
 * fails, the state stays.
 */
export async function restoredNamed(
  p: StatePersistence,
  name: string,
  service: string,
  kind: string,
  version: string,
): Promise<RestoredState | undefined> {
  if (!p.keeps(service, 'service')) {
    // Not awaited: the claim must not wait on it, and nothing reads the record in this mode.
    void p.store.delete(namedKey(name)).catch(() => {});
    return undefined;
  }
  const found = await p.store.getNamed(name);
  if (!found) return undefined;
  const rec = found.value;
  const covered = rec.journalSeq ?? 0;
  const events = rec.final ? [] : await p.journal.eventsOf(rec.node, namedJournalKey(name), covered);
  const state = await p.rebuild(service, kind, name, found.value.snapshot, events, version);
  return {
    storedVersion: found.value.snapshot.version,
    snapshot: state.snapshot,
    journaled: events.at(-1)?.seq ?? covered,
    covered,
    pending: events.length,
    current: rec.final !== true && rec.node === p.node,
  };
}
