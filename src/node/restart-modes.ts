import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import semver from 'semver';
import type { VersionedSnapshot } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';
import { type ComponentRestartModes, type ReleaseManifest, restartModes } from '../release/manifest.ts';
import type { NamedActors } from '../services/named-actors.ts';
import type { Presence } from '../services/presence.ts';
import type { ServiceHost } from '../services/service-host.ts';
import { restoreChannel } from '../services/snapshot-restore.ts';
import type { SnapshotStore, Stored } from '../services/snapshot-store.ts';
import type { PersistedComponent, StatePersistence } from '../services/state-persistence.ts';

/** What the restart modes need from their node. */
export interface RestartModesDeps {
  node: string;
  nc: NatsConnection;
  store: SnapshotStore;
  services: ReadonlyMap<string, ServiceHost>;
  named: NamedActors;
  presence: Presence;
  log: Logger;
  /** The manifest of the release running now (it changes with an upgrade). */
  manifest: () => ReleaseManifest;
  /** Period of the write-behind flush, default 500 ms; 0: no periodic flush (graceful stop and flush() only). */
  persistIntervalMs?: number;
  /** True while the loop must wait (an upgrade runs: its pause must not share the store with a flush). */
  busy?: () => boolean;
}

/** Writes in flight at once during a flush: a node of 100k busy channels must not open 100k requests. */
const FLUSH_WIDTH = 256;

/** Which part of a service still waits for {@link RestartModes.startService}. */
type Waiting = 'service' | 'acceptor';

/**
 * The component restart modes (after SST's restartMode): what a node restart does to each
 * component's persisted state, in two phases per service, both before its acceptor starts —
 * cleanUpOnRestart (remove what would interfere), then startUpOnRestart (start per the mode).
 *
 * | component | `restart` | `clear` | `cleanup` |
 * |---|---|---|---|
 * | channels | sessions persisted (write-behind) and restored as live channels | this node's persisted sessions deleted | this node's and dead nodes' sessions deleted; none restored |
 * | service (named actors) | actors persisted; a later claim restores one | records deleted (but those of other live nodes) | same deletions; the service waits for `startService` |
 * | acceptor | started at boot | started at boot with nothing held (a fresh acceptor holds nothing) | not started until `startService` |
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
  /** Set when the node begins a graceful stop. */
  stopping = false;
  private booting = true;
  private timer: ReturnType<typeof setInterval> | undefined;
  private looping = false;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly deps: RestartModesDeps) {
    this.node = deps.node;
    this.store = deps.store;
  }

  /** The restart mode of each component of a service, from the running release's manifest. */
  modes(service: string): ComponentRestartModes {
    return restartModes(this.deps.manifest().services.find((s) => s.name === service)?.restart);
  }

  keeps(service: string, component: PersistedComponent): boolean {
    return this.modes(service)[component] === 'restart';
  }

  isAlive(node: string): Promise<boolean> {
    return this.deps.presence.isAlive(node);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.deps.log.warn({ node: this.node, ...fields }, message);
  }

  migrate(service: string, kind: string, id: string, persisted: VersionedSnapshot): unknown {
    const def = this.deps.services.get(service)?.def;
    if (!def) return undefined;
    if (persisted.version === def.version) return persisted.snapshot;
    const fields = { service, kind, id, from: persisted.version, to: def.version };
    if (!def.codeChange) {
      this.warn(
        'persisted snapshot dropped: another version made it and the service has no codeChange',
        fields,
      );
      return undefined;
    }
    const up = !semver.valid(persisted.version) || semver.gte(def.version, persisted.version);
    try {
      return def.codeChange({
        snapshot: persisted.snapshot,
        from: persisted.version,
        to: def.version,
        direction: up ? 'up' : 'down',
        kind,
        extra: {},
      });
    } catch (err) {
      this.warn('persisted snapshot dropped: its codeChange failed', {
        ...fields,
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  /** Starts a service host per its modes: cleanUpOnRestart, then startUpOnRestart. */
  async startHost(host: ServiceHost): Promise<void> {
    await this.cleanUpOnRestart(host);
    await this.startUpOnRestart(host);
  }

  /** Phase 1: removes what the mode says must not survive, and what would block a clean start. */
  async cleanUpOnRestart(host: ServiceHost): Promise<void> {
    const m = this.modes(host.name);
    const released = await this.deps.named.releaseLeftovers(host.name);
    let named = 0;
    if (m.service !== 'restart')
      named = await this.deleteUnlessLive(await this.store.named(host.name), (node) => this.isAlive(node));
    let channels = 0;
    if (m.channels === 'clear')
      channels = await this.deleteUnlessLive(await this.store.channels(this.node, host.name), () => false);
    else if (m.channels === 'cleanup')
      channels = await this.deleteUnlessLive(await this.store.channels('*', host.name), (node) =>
        this.isAlive(node),
      );
    if (released + named + channels > 0)
      this.deps.log.info(
        { node: this.node, service: host.name, modes: m, released, named, channels },
        'restart modes: cleaned up',
      );
  }

  /** Phase 2: restores and starts what the modes say; at boot, `cleanup` components wait. */
  async startUpOnRestart(host: ServiceHost): Promise<void> {
    const m = this.modes(host.name);
    // A host started afresh (maintenance over, relup) replaces any that waited before it.
    this.waiting.delete(host.name);
    if (this.booting && m.service === 'cleanup') {
      this.waiting.set(host.name, 'service');
      this.deps.log.info(
        { node: this.node, service: host.name },
        'restart modes: service waits for startService',
      );
      return;
    }
    if (m.channels === 'restart') await this.restoreChannels(host);
    const holdAcceptor = this.booting && m.acceptor === 'cleanup';
    host.start(!holdAcceptor);
    if (holdAcceptor) this.waiting.set(host.name, 'acceptor');
  }

  /** Starts what still waits of a service (restart mode `cleanup`); false when nothing waited. */
  async startService(name: string): Promise<boolean> {
    const host = this.deps.services.get(name);
    if (!host) throw new RelupError('UNKNOWN_SERVICE', `service ${name} does not run on this node`);
    const waiting = this.waiting.get(name);
    if (!waiting) return false;
    this.waiting.delete(name);
    if (waiting === 'service' && this.keeps(name, 'channels')) await this.restoreChannels(host);
    host.start();
    this.deps.log.info({ node: this.node, service: name }, 'restart modes: service started');
    return true;
  }

  /** Services (or their acceptors) waiting for startService. */
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
      void this.flush().finally(() => {
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

  private async restoreChannels(host: ServiceHost): Promise<void> {
    const records = await this.store.channels(this.node, host.name);
    let restored = 0;
    const dropped: string[] = [];
    for (const { key, value } of records) {
      if (host.hasSession(value.session)) continue;
      if (restoreChannel(host, this, value)) restored++;
      else dropped.push(key);
    }
    await Promise.all(dropped.map((k) => this.store.delete(k)));
    if (records.length > 0)
      this.deps.log.info(
        { node: this.node, service: host.name, restored, dropped: dropped.length },
        'restart modes: sessions restored',
      );
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
