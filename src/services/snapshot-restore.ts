import type { ActorHost, VersionedSnapshot } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';
import { isSubjectToken } from '../nats/subjects.ts';
import type { ServiceHost } from './service-host.ts';
import { type ChannelRecord, namedKey } from './snapshot-store.ts';
import type { StatePersistence } from './state-persistence.ts';

/** The reply to a connect request that resumed a session. */
export interface ResumedReply {
  ok: true;
  session: string;
  resumed: true;
}

/**
 * Opens a live channel from a persisted session; undefined when its snapshot is dropped (no
 * migration to the running version, or it does not restore into the channel logic), logged.
 */
export function restoreChannel(
  host: ServiceHost,
  p: StatePersistence,
  rec: ChannelRecord,
  superAdmin = false,
): ActorHost | undefined {
  const snapshot = p.migrate(host.name, 'channel', rec.session, rec.snapshot);
  if (snapshot === undefined) return undefined;
  try {
    // Tagged with the version it was persisted by: a migrated session is written again at the next flush.
    return host.openChannel(rec.session, rec.input, { version: rec.snapshot.version, snapshot }, superAdmin);
  } catch (err) {
    p.warn('persisted session dropped: its snapshot does not restore into the channel logic', {
      service: host.name,
      session: rec.session,
      error: (err as Error).message,
    });
    return undefined;
  }
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
  host: ServiceHost,
  p: StatePersistence,
  session: unknown,
  superAdmin: boolean,
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
  if (from !== p.node) {
    if (await p.isAlive(from)) return resumed;
    // Lost: another node took the session over first, and hosts it now.
    if (!(await p.store.delete(found.key, found.revision))) return resumed;
  }
  // A concurrent reconnect on this node may have restored it while we waited on the store.
  if (host.hasSession(session)) return resumed;
  const actor = restoreChannel(host, p, found.value, superAdmin);
  if (!actor) {
    if (from === p.node) await p.store.delete(found.key);
    throw unknown();
  }
  if (from !== p.node) await host.persistSession(session);
  return resumed;
}

/**
 * The snapshot a named actor being claimed starts from: its persisted one when the service's
 * named actors are kept (migrated when needed), else undefined, and a record left by an earlier
 * owner is deleted so that it cannot come back after this owner's state moved on.
 */
export async function restoredNamed(
  p: StatePersistence,
  name: string,
  service: string,
  kind: string,
): Promise<VersionedSnapshot | undefined> {
  if (!p.keeps(service, 'service')) {
    // Not awaited: the claim must not wait on it, and nothing reads the record in this mode.
    void p.store.delete(namedKey(name)).catch(() => {});
    return undefined;
  }
  const found = await p.store.getNamed(name);
  if (!found) return undefined;
  const snapshot = p.migrate(service, kind, name, found.value.snapshot);
  if (snapshot === undefined) {
    await p.store.delete(found.key).catch(() => {});
    return undefined;
  }
  return { version: found.value.snapshot.version, snapshot };
}
