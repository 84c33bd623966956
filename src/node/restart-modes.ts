import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import semver from 'semver';
import type { AnyActorLogic, Snapshot } from 'xstate';
import type { VersionedSnapshot } from '../actors/actor-host.ts';
import { initialLogic, persistLogic, restoreLogic, transitionLogic } from '../actors/logic-scope.ts';
import { callWithin } from '../call-within.ts';
import { RelupError } from '../errors.ts';
import { type ReleaseManifest, restartModes } from '../release/manifest.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import type { EventJournal, JournaledEvent } from '../services/event-journal.ts';
import { channelJournalKey, namedJournalKey } from '../services/kept-actor.ts';
import type { NamedActors } from '../services/named-actors.ts';
import type { Presence } from '../services/presence.ts';
import type { ServiceHost } from '../services/service-host.ts';
import { restoreChannel } from '../services/snapshot-restore.ts';
import type { Incarnation, SnapshotStore, Stored } from '../services/snapshot-store.ts';
import type {
  ComponentRestartModes,
  Durability,
  PersistedBase,
  PersistedComponent,
  StatePersistence,
} from '../services/state-persistence.ts';

/** What the restart modes need from their node. */
export interface RestartModesDeps {
  node: string;
  nc: NatsConnection;
  store: SnapshotStore;
  journal: EventJournal;
  services: ReadonlyMap<string, ServiceHost>;
  named: NamedActors;
  presence: Presence;
  log: Logger;
  /** The manifest of the release running now (it changes with an upgrade). */
  manifest: () => ReleaseManifest;
  /** Period of the write-behind flush, default 500 ms; 0: no periodic flush (graceful stop and flush() only). */
  persistIntervalMs?: number;
  /** True while the loop must wait (an upgrade's pause must not share the store with a snapshot pass). */
  busy?: () => boolean;
  /** Loads a service's definition from another release (to replay or migrate state that release wrote). */
  definition: (service: string, version: string) => Promise<ServiceDefinition>;
  /** How long a service's cleanUpOnRestart or startUpOnRestart may take, default 30 s. */
  restartHookTimeoutMs?: number;
}

const DEFAULT_RESTART_HOOK_TIMEOUT_MS = 30_000;

/** Snapshot passes between two compactions of the journal (a filtered purge reads the whole stream). */
const COMPACT_EVERY_PASSES = 60;

/** Writes in flight at once during a flush: a node of 100k busy channels must not open 100k requests. */
const FLUSH_WIDTH = 256;

/** Which part of a service still waits for {@link RestartModes.startWaiting}. */
type Waiting = 'service' | 'acceptor';

/**
 * The component restart modes: what a node restart does to each component's persisted state.
 * cleanUpOnRestart is one node-wide phase at boot, before any service starts, and only after an
 * earlier run of the node id (each boot records its incarnation): it removes what the modes do
 * not keep, then runs each service's own cleanUpOnRestart. startUpOnRestart then starts each
 * service per its modes (restoring what they keep), the service's own hook before its acceptor.
 *
 * | component | `restart` | `clear` | `cleanup` |
 * |---|---|---|---|
 * | channels | sessions persisted (write-behind) and restored as live channels | this node's persisted sessions deleted | this node's and dead nodes' sessions deleted; none restored |
 * | service (named actors) | actors persisted; a later claim restores one | records deleted (but those of other live nodes) | same deletions; the service waits for `startWaiting` |
 * | acceptor | started at boot | started at boot with nothing held (a fresh acceptor holds nothing) | not started until `startWaiting` |
 *
 * In every mode the named-actor ownership entries this node left behind are released at boot:
 * a new run owns nothing yet, and a stale entry of a live node id blocks every other claimer.
 * Waiting (`cleanup`) applies only at boot: a service started later (maintenance, relups) starts.
 *
 * Graceful stop with channels in `restart`: sessions are persisted and parked, not ended — the
 * logic gets no `session.closed` (so a chat member stays in its room) and the client gets
 * `{ type: 'closed', reason, resumable: true }`; its session id works again once a node restores it.
 */
export class RestartModes implements StatePersistence {
  readonly node: string;
  readonly store: SnapshotStore;
  readonly journal: EventJournal;
  /** Set when the node begins a graceful stop. */
  stopping = false;
  private booting = true;
  private timer: ReturnType<typeof setInterval> | undefined;
  private looping = false;
  private readonly waiting = new Map<string, Waiting>();
  /**
   * Actors not live here whose state needs this node's journal from a sequence on: named actors
   * its last run left (until claimed) and sessions it could not restore. Key → covered sequence.
   */
  private readonly retained = new Map<string, number>();
  private passes = 0;
  /** Compacted below this sequence already. */
  private compactedBelow = 0;
  /** Per service of the running manifest: its modes and durability (asked on every state change). */
  private settings: { manifest: ReleaseManifest; byService: Map<string, ServiceSettings> } | undefined;
  /** Definitions of other releases' versions, loaded once, for replays and migrations. */
  private readonly definitions = new Map<string, Promise<ServiceDefinition>>();
  private current: Incarnation | undefined;
  private previous: Incarnation | undefined;
  /** Services of the restarted release whose startUpOnRestart has not run yet. */
  private readonly startUpPending = new Set<string>();

  constructor(private readonly deps: RestartModesDeps) {
    this.node = deps.node;
    this.store = deps.store;
    this.journal = deps.journal;
  }

  /** The restart mode of each component of a service, from the running release's manifest. */
  modes(service: string): ComponentRestartModes {
    return this.settingsOf(service).modes;
  }

  keeps(service: string, component: PersistedComponent): boolean {
    return this.settingsOf(service).modes[component] === 'restart';
  }

  durability(service: string): Durability {
    return this.settingsOf(service).durability;
  }

  /** What a reply of the service promises about its kept state, for status. */
  stateContract(service: string): { durability: Durability | 'none'; lossWindowMs: number | null } {
    if (!this.keeps(service, 'service') && !this.keeps(service, 'channels'))
      return { durability: 'none', lossWindowMs: null };
    const durability = this.durability(service);
    if (durability === 'durable') return { durability, lossWindowMs: 0 };
    const ms = this.deps.persistIntervalMs ?? 500;
    // Without a periodic flush, only a graceful stop writes: everything since boot is at risk.
    return { durability, lossWindowMs: ms > 0 ? ms : null };
  }

  private settingsOf(service: string): ServiceSettings {
    const manifest = this.deps.manifest();
    if (this.settings?.manifest !== manifest) this.settings = { manifest, byService: new Map() };
    let found = this.settings.byService.get(service);
    if (!found) {
      const entry = manifest.services.find((s) => s.name === service);
      found = { modes: restartModes(entry?.restart), durability: entry?.durability ?? 'durable' };
      this.settings.byService.set(service, found);
    }
    return found;
  }

  isAlive(node: string): Promise<boolean> {
    return this.deps.presence.isAlive(node);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.deps.log.warn({ node: this.node, ...fields }, message);
  }

  async rebuild(
    service: string,
    kind: string,
    id: string,
    base: PersistedBase,
    events: JournaledEvent[],
    to?: string,
  ): Promise<VersionedSnapshot> {
    const running = this.deps.services.get(service)?.def;
    if (!running) throw notMigrated(`service ${service} does not run on this node`, { service, kind, id });
    // Read now: the running version may switch while the definitions below are loaded.
    const target = to ?? running.version;
    let version = base.version;
    let state = 'snapshot' in base ? base.snapshot : undefined;
    if (events.length > 0 || state === undefined) {
      let logic = logicOf(await this.definitionOf(service, version), kind, id);
      let snap: Snapshot<unknown> =
        'snapshot' in base
          ? restoreLogic(logic, base.snapshot)
          : initialLogic(logic, (base as { input: unknown }).input)[0];
      // Replayed by the logic that accepted each event; its effects happened when it was accepted.
      for (const e of events) {
        if (e.version !== version) {
          const moved = await this.migrate(
            service,
            kind,
            id,
            { version, snapshot: persistLogic(logic, snap) },
            e.version,
          );
          version = e.version;
          logic = logicOf(await this.definitionOf(service, version), kind, id);
          snap = restoreLogic(logic, moved);
        }
        [snap] = transitionLogic(logic, snap, e.event);
        if (snap.status === 'error')
          throw notMigrated(`replaying the journal of ${id} failed at event ${e.seq}`, {
            service,
            kind,
            id,
            seq: e.seq,
          });
      }
      state = persistLogic(logic, snap);
    }
    const snapshot = await this.migrate(service, kind, id, { version, snapshot: state }, target);
    return { version: target, snapshot };
  }

  /**
   * Migrates a persisted snapshot to version `to` with the codeChange of the newer of the two
   * versions (it owns both directions), loading that release's code when it is not the running one.
   * The relup's `extra` is not known here: codeChange gets `{}`.
   */
  private async migrate(
    service: string,
    kind: string,
    id: string,
    persisted: VersionedSnapshot,
    to: string,
  ): Promise<unknown> {
    const from = persisted.version;
    if (from === to) return persisted.snapshot;
    const up = !semver.valid(from) || !semver.valid(to) || semver.gt(to, from);
    const fields = { service, kind, id, from, to };
    const owner = await this.definitionOf(service, up ? to : from);
    // As in a hot upgrade: without a codeChange the state's shape is the same in both versions;
    // whether it really restores is checked when the actor is built from it.
    if (!owner.codeChange) return persisted.snapshot;
    try {
      return owner.codeChange({
        snapshot: persisted.snapshot,
        from,
        to,
        direction: up ? 'up' : 'down',
        kind,
        extra: {},
      });
    } catch (err) {
      throw notMigrated(
        `codeChange of ${service}@${owner.version} failed on ${id}: ${(err as Error).message}`,
        fields,
        err,
      );
    }
  }

  /** A service's definition at a version: the running one, or loaded once from that release. */
  private definitionOf(service: string, version: string): Promise<ServiceDefinition> {
    const running = this.deps.services.get(service)?.def;
    if (running?.version === version) return Promise.resolve(running);
    const key = `${service}@${version}`;
    let found = this.definitions.get(key);
    if (!found) {
      found = this.deps.definition(service, version).catch((err: unknown) => {
        this.definitions.delete(key);
        throw notMigrated(
          `state was written by ${service}@${version}, whose release cannot be loaded: ${(err as Error).message}`,
          { service, version },
          err,
        );
      });
      this.definitions.set(key, found);
    }
    return found;
  }

  /**
   * The node-wide cleanUpOnRestart phase, once at boot before any service starts. It records
   * this run; when an earlier run of this node id recorded itself, it then removes, service by
   * service, the state their modes do not keep, and runs each service's own cleanUpOnRestart.
   * A first run cleans nothing: no state of its own can exist yet.
   */
  async cleanUpAtBoot(defs: readonly ServiceDefinition[]): Promise<void> {
    const previous = await this.store.incarnation(this.node);
    this.current = {
      node: this.node,
      incarnation: (previous?.incarnation ?? 0) + 1,
      bootedAt: new Date().toISOString(),
    };
    await this.store.putIncarnation(this.current);
    this.previous = previous;
    for (const def of defs) {
      // Ownership entries are released on every boot: a new run owns nothing yet.
      const released = await this.deps.named.releaseLeftovers(def.name);
      const removed = previous ? await this.removeUnkept(def.name) : { named: 0, channels: 0 };
      if (released + removed.named + removed.channels > 0)
        this.deps.log.info(
          { node: this.node, service: def.name, modes: this.modes(def.name), released, ...removed },
          'restart modes: cleaned up',
        );
      if (!previous) continue;
      await this.runHook(def, 'cleanUpOnRestart', previous);
      this.startUpPending.add(def.name);
    }
  }

  /** This run of the node and the one before it (undefined on a node id's first run). */
  incarnations(): { current: Incarnation | undefined; previous: Incarnation | undefined } {
    return { current: this.current, previous: this.previous };
  }

  /** Removes a service's persisted state its modes do not keep (but that of other live nodes). */
  private async removeUnkept(service: string): Promise<{ named: number; channels: number }> {
    const m = this.modes(service);
    let named = 0;
    if (m.service !== 'restart')
      named = await this.deleteUnlessLive(await this.store.named(service), (node) => this.isAlive(node));
    // Named actors this node's last run left with journaled events: kept until someone claims them.
    else
      for (const { value } of await this.store.named(service))
        if (value.node === this.node && !value.final)
          this.retained.set(namedJournalKey(value.name), value.journalSeq ?? 0);
    let channels = 0;
    if (m.channels === 'clear')
      channels = await this.deleteUnlessLive(await this.store.channels(this.node, service), () => false);
    else if (m.channels === 'cleanup')
      channels = await this.deleteUnlessLive(await this.store.channels('*', service), (node) =>
        this.isAlive(node),
      );
    return { named, channels };
  }

  /**
   * startUpOnRestart: restores and starts a service host per its modes; at boot, `cleanup`
   * components wait. After a restart the service's own startUpOnRestart runs once, after its
   * channels are restored and before its acceptor admits anyone. Without `intake` the acceptor
   * stays closed (a redundant service's standby).
   */
  async startHost(host: ServiceHost, intake = true): Promise<void> {
    const m = this.modes(host.name);
    // A host started afresh (maintenance over, relup) replaces any that waited before it.
    this.waiting.delete(host.name);
    if (this.booting && m.service === 'cleanup') {
      this.waiting.set(host.name, 'service');
      this.deps.log.info(
        { node: this.node, service: host.name },
        'restart modes: service waits for startWaiting',
      );
      return;
    }
    // A standby serves no session: its parked ones are resumed, from the store, by the active.
    if (m.channels === 'restart' && intake) await this.restoreChannels(host);
    await this.startUpHook(host);
    const holdAcceptor = this.booting && m.acceptor === 'cleanup';
    // A redundant service's standby runs without intake: its acceptor opens when it becomes the active.
    host.start(!holdAcceptor && intake);
    if (holdAcceptor) this.waiting.set(host.name, 'acceptor');
  }

  /** The service's own startUpOnRestart, once per restart, for a service that ran before it. */
  private async startUpHook(host: ServiceHost): Promise<void> {
    if (!this.previous || !this.startUpPending.delete(host.name)) return;
    await this.runHook(host.def, 'startUpOnRestart', this.previous);
  }

  /** Runs a service's restart hook, bounded in time; a throw or a timeout is RESTART_HOOK_FAILED. */
  private async runHook(
    def: ServiceDefinition,
    hook: 'cleanUpOnRestart' | 'startUpOnRestart',
    previous: Incarnation,
  ): Promise<void> {
    const fn = def[hook];
    if (!fn) return;
    const ms = this.deps.restartHookTimeoutMs ?? DEFAULT_RESTART_HOOK_TIMEOUT_MS;
    const details = { service: def.name, hook, timeoutMs: ms };
    try {
      await callWithin(
        () => fn({ node: this.node, service: def.name, modes: this.modes(def.name), previous }),
        ms,
        () =>
          new RelupError('RESTART_HOOK_FAILED', `${hook} of ${def.name} did not finish in ${ms} ms`, details),
      );
    } catch (err) {
      if (err instanceof RelupError && err.code === 'RESTART_HOOK_FAILED') throw err;
      throw new RelupError(
        'RESTART_HOOK_FAILED',
        `${hook} of ${def.name} failed: ${(err as Error)?.message ?? String(err)}`,
        details,
        { cause: err },
      );
    }
    this.deps.log.info({ node: this.node, service: def.name, hook }, 'restart modes: service hook ran');
  }

  /** Starts what still waits of a service (restart mode `cleanup`); false when nothing waited. */
  async startWaiting(name: string): Promise<boolean> {
    const host = this.deps.services.get(name);
    if (!host) throw new RelupError('UNKNOWN_SERVICE', `service ${name} does not run on this node`);
    const waiting = this.waiting.get(name);
    if (!waiting) return false;
    this.waiting.delete(name);
    if (waiting === 'service') {
      if (this.keeps(name, 'channels')) await this.restoreChannels(host);
      await this.startUpHook(host);
    }
    host.start();
    this.deps.log.info({ node: this.node, service: name }, 'restart modes: service started');
    return true;
  }

  /** Services (or their acceptors) waiting for startWaiting. */
  waitingServices(): string[] {
    return [...this.waiting.keys()];
  }

  /** Boot is over: components started from now on do not wait; the write-behind loop runs. */
  start(): void {
    this.booting = false;
    const ms = this.deps.persistIntervalMs ?? 500;
    if (ms <= 0) return;
    this.timer = setInterval(() => {
      // One pass at a time: a slow store must not pile passes up; an upgrade's pause goes first.
      if (this.looping || this.deps.busy?.()) return;
      this.looping = true;
      const compact = ++this.passes % COMPACT_EVERY_PASSES === 0;
      void this.flush()
        .then(() => (compact ? this.compactJournal() : undefined))
        .catch((err: unknown) =>
          this.warn('journal compaction failed; retried later', { error: String(err) }),
        )
        .finally(() => {
          this.looping = false;
        });
    }, ms);
    this.timer.unref();
    // A connection that closes under the node (a crash) ends the loop with it.
    void this.deps.nc.closed().then(() => clearInterval(this.timer));
  }

  /** Writes every kept actor that changed since its last write; resolves when all are stored. */
  async flush(): Promise<void> {
    const { services, named } = this.deps;
    function* writes(): Generator<() => Promise<void>> {
      for (const host of services.values())
        for (const session of host.dirtySessions()) yield () => host.persistSession(session);
      for (const name of named.dirtyActors()) yield () => named.persistActor(name);
    }
    const failed = await drain(writes(), FLUSH_WIDTH);
    if (failed.count > 0)
      this.warn('restart modes: some snapshots were not written; retried at the next flush', {
        failed: failed.count,
        error: String(failed.first),
      });
  }

  /** The node stops: a last flush, then the loop ends (channels were parked, named actors saved). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.store.settled();
  }

  /**
   * Opens this node's persisted sessions of a service as live channels. A session whose state
   * cannot be brought to the running version is kept untouched and refused with the reason.
   */
  private async restoreChannels(host: ServiceHost): Promise<void> {
    const records = (await this.store.channels(this.node, host.name)).filter(
      (r) => !host.hasSession(r.value.session),
    );
    if (records.length === 0) return;
    // One read of this node's journal serves every session: from the oldest a snapshot does not cover.
    const unfinished = records.filter((r) => !r.value.final).map((r) => r.value.journalSeq ?? 0);
    const journal =
      unfinished.length > 0 ? await this.journal.read(this.node, Math.min(...unfinished)) : new Map();
    let restored = 0;
    let refused = 0;
    for (const { value } of records) {
      const key = channelJournalKey(host.name, value.session);
      const covered = value.journalSeq ?? 0;
      const events = value.final
        ? []
        : (journal.get(key) ?? []).filter((e: JournaledEvent) => e.seq > covered);
      try {
        await restoreChannel(host, this, value, events);
        restored++;
      } catch (err) {
        refused++;
        host.refuseSession(value.session, err);
        if (events.length > 0) this.retained.set(key, covered);
        this.warn('a persisted session is kept but not served: its state cannot be restored', {
          service: host.name,
          session: value.session,
          error: (err as Error).message,
        });
      }
    }
    this.deps.log.info(
      { node: this.node, service: host.name, restored, refused },
      'restart modes: sessions restored',
    );
  }

  /**
   * Drops this node's journal below the oldest event an actor still needs: the live actors'
   * events since their snapshots, and those of actors retained for later (a retained named
   * actor is let go once another record — a claim — supersedes this node's).
   */
  async compactJournal(): Promise<void> {
    let below = Number.POSITIVE_INFINITY;
    for (const host of this.deps.services.values())
      for (const from of host.neededJournal()) below = Math.min(below, from);
    for (const from of this.deps.named.neededJournal()) below = Math.min(below, from);
    for (const [key, covered] of this.retained) {
      if (key.startsWith('na.')) {
        const rec = await this.store.getNamed(key.slice(3));
        if (
          !rec ||
          rec.value.node !== this.node ||
          rec.value.final ||
          (rec.value.journalSeq ?? 0) !== covered
        ) {
          this.retained.delete(key);
          continue;
        }
      }
      below = Math.min(below, covered + 1);
    }
    if (below === Number.POSITIVE_INFINITY) below = await this.journal.nextSeq();
    if (below <= this.compactedBelow) return;
    await this.journal.compact(below);
    this.compactedBelow = below;
  }

  /** Deletes records but those of other nodes that are alive (their live state is theirs to keep). */
  private async deleteUnlessLive(
    records: Stored<{ node: string }>[],
    alive: (node: string) => boolean | Promise<boolean>,
  ): Promise<number> {
    const verdicts = new Map<string, boolean | Promise<boolean>>();
    const doomed: string[] = [];
    for (const { key, value } of records) {
      const other = value.node !== this.node;
      if (other && !verdicts.has(value.node)) verdicts.set(value.node, alive(value.node));
      if (!other || !(await verdicts.get(value.node))) doomed.push(key);
    }
    // A record gone, its journal is never read again; the stream ages those events out.
    await Promise.all(doomed.map((k) => this.store.delete(k)));
    return doomed.length;
  }
}

/** Runs jobs with at most `width` in flight; counts the failures. */
async function drain(
  jobs: Iterator<() => Promise<void>>,
  width: number,
): Promise<{ count: number; first: unknown }> {
  const failed = { count: 0, first: undefined as unknown };
  const worker = async () => {
    // The iterator is shared: each worker takes the next job when it is free.
    for (let next = jobs.next(); !next.done; next = jobs.next()) {
      try {
        await next.value();
      } catch (err) {
        if (failed.count++ === 0) failed.first = err;
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return failed;
}

interface ServiceSettings {
  modes: ComponentRestartModes;
  durability: Durability;
}

/** The logic of a kind of actor in a definition (`channel`, or a named actor's kind). */
function logicOf(def: ServiceDefinition, kind: string, id: string): AnyActorLogic {
  const logic = kind === 'channel' ? def.channel : def.actors?.[kind];
  if (!logic) throw notMigrated(`${def.name}@${def.version} has no ${kind} logic for ${id}`, { kind, id });
  return logic;
}

function notMigrated(message: string, details: Record<string, unknown>, cause?: unknown): RelupError {
  return new RelupError('STATE_NOT_MIGRATED', message, details, cause === undefined ? undefined : { cause });
}
