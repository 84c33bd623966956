import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ActorRegistry } from '../actors/registry.ts';
import type { Subjects } from '../nats/subjects.ts';
import { loadedModuleCount, loadedVersions } from '../release/code-loader.ts';
import type { ReleaseStore } from '../release/release-store.ts';
import type { UpgradeProgress, UpgradeReport } from '../relup/upgrade-report.ts';
import type { NamedActors } from '../services/named-actors.ts';
import type { Presence } from '../services/presence.ts';
import type { ServiceHost } from '../services/service-host.ts';
import { bootNode, type NodeParts } from './boot.ts';
import type { LifecycleState, MaintenanceEntry, MaintenanceReason } from './lifecycle.ts';
import type { Maintenance } from './maintenance/maintenance.ts';
import type { NodeEvents } from './node-events.ts';
import type {
  DisconnectOptions,
  FailedScript,
  LeaveResult,
  MaintenanceRequest,
  MaintenanceResult,
  NodeOptions,
  NodeStatus,
  RunningRelease,
} from './node-types.ts';
import type { RestartModes } from './restart-modes.ts';
import type { Scheduler } from './scheduler.ts';
import type { UpgradeRequest } from './upgrade/upgrade.ts';

/**
 * A relup node: one NATS connection, the actor registry, named-actor ownership and the
 * services of one release. Start with {@link startNode}. A facade: its parts are private,
 * and what operators and the control server do goes through its methods.
 */
export class RelupNode {
  private stopping: Promise<void> | undefined;
  private stage: string | undefined;

  private constructor(private readonly parts: NodeParts) {}

  /** Connects, resolves the release to boot, loads and starts its services. */
  static async start(opts: NodeOptions): Promise<RelupNode> {
    return new RelupNode(await bootNode(opts));
  }

  /** The node id, unique in the cluster. */
  get id(): string {
    return this.parts.id;
  }

  /** The node's NATS connection. */
  get nc(): NatsConnection {
    return this.parts.nc;
  }

  /** The subjects of the node's prefix. */
  get subjects(): Subjects {
    return this.parts.subjects;
  }

  /** The node's logger. */
  get log(): Logger {
    return this.parts.log;
  }

  /** Node events, published on `<prefix>.evt.<node>` and to in-process listeners. */
  get events(): NodeEvents {
    return this.parts.events;
  }

  /** Scheduled jobs; skipped in maintenance unless allowed there. */
  get scheduler(): Scheduler {
    return this.parts.scheduler;
  }

  /** The release store of the cluster (permanent release, history). */
  get store(): ReleaseStore {
    return this.parts.store;
  }

  /** The folder holding `<version>/release.json`. */
  get releasesDir(): string {
    return this.parts.releasesDir;
  }

  /** Keys one of which must have signed every release the node loads; any sealed release when absent. */
  get releaseKeys(): readonly string[] | undefined {
    return this.parts.releaseKeys;
  }

  /** The release the node runs now. */
  get release(): RunningRelease {
    return this.parts.release.get();
  }

  /** The report of the last upgrade, for status. */
  get lastUpgrade(): UpgradeReport | undefined {
    return this.parts.upgrader.lastReport;
  }

  /** The high-priority migration script whose failure put the node in maintenance, for retry/skip. */
  get failedScript(): FailedScript | undefined {
    return this.parts.upgrader.failedScript;
  }

  /** The id of the upgrade running now, if any. */
  get upgrading(): string | undefined {
    return this.parts.upgrader.lock.running;
  }

  /** The node's upgrade journal, oldest first: finished reports and the one in flight. */
  upgradeHistory(): Promise<(UpgradeProgress | UpgradeReport)[]> {
    return this.parts.journal.history();
  }

  /** The lifecycle state: booting, initialized, ready, upgrading, maintenance, stopping or stopped. */
  get state(): LifecycleState {
    return String(this.parts.lifecycle.getSnapshot().value) as LifecycleState;
  }

  /** Loaded and started as far as it goes (also true in maintenance). */
  isInitialized(): boolean {
    return !['booting', 'stopping', 'stopped'].includes(this.state);
  }

  /** Serving normally (a hot upgrade keeps serving). */
  isReady(): boolean {
    return this.state === 'ready' || this.state === 'upgrading';
  }

  /** In maintenance mode, for any reason. */
  isMaintenance(): boolean {
    return this.state === 'maintenance';
  }

  /**
   * Whether a feature may run now: everything once initialized, and in maintenance only what is
   * declared allowed there (`allowInMaintenance`) or allowed by an operator ({@link allowInMaintenance}).
   */
  isAllowed(feature: string, allowInMaintenance = false): boolean {
    if (!this.isMaintenance()) return this.isInitialized();
    return allowInMaintenance || this.parts.maintenance.allows(feature);
  }

  /** Allows a feature (`job:<name>`, `service:<name>`) in maintenance besides those declared so. */
  allowInMaintenance(feature: string): void {
    this.parts.maintenance.allow(feature);
  }

  /** Runs an upgrade (or a downgrade, or a check) to a release; one at a time (BUSY otherwise). */
  upgrade(req: UpgradeRequest): Promise<UpgradeReport> {
    return this.parts.upgrader.upgrade(req);
  }

  /** Runs the upgrade whose high-priority script failed again (`retry`) or without that script (`skip`). */
  resolveFailedScript(action: 'retry' | 'skip'): Promise<UpgradeReport> {
    return this.parts.upgrader.resolveFailedScript(action);
  }

  /** Enters maintenance: notify, grace countdown, notify, disconnect, hold the services not required. */
  enterMaintenance(req: MaintenanceRequest = {}): Promise<MaintenanceResult> {
    return this.parts.maintenance.enter(req);
  }

  /** Clears one maintenance reason; the last one cleared starts the held services again. */
  leaveMaintenance(reason: MaintenanceReason = 'manual'): Promise<LeaveResult> {
    return this.parts.maintenance.leave(reason);
  }

  /** Disables a service (the answer to a dependency error): it stays stopped until the next release. */
  disableService(name: string): Promise<{ state: string }> {
    return this.parts.maintenance.disable(name);
  }

  /** Pushes a message to every client session; returns how many got it. */
  notifyClients(message: unknown): number {
    return this.parts.maintenance.notify(message);
  }

  /** Disconnects every session except super-admins' (by default) or the listed ones. */
  disconnectClients(opts: DisconnectOptions = {}): Promise<number> {
    return this.parts.maintenance.disconnect(opts);
  }

  /**
   * Starts what waits of a service whose restart mode is `cleanup` (the service, or only its
   * acceptor); false when nothing waited. UNKNOWN_SERVICE when the service does not run here.
   */
  async startWaiting(name: string): Promise<boolean> {
    const started = await this.parts.restartModes.startWaiting(name);
    if (started) await this.parts.nc.flush();
    return started;
  }

  /** A snapshot of the node for operators. */
  status(): NodeStatus {
    const { table, registry, named, upgrader, restartModes, redundant } = this.parts;
    const pairs = redundant.status();
    const last = upgrader.lastReport;
    const pending = this.parts.maintenance.pendingEntry();
    return {
      node: this.id,
      state: this.state,
      maintenance: this.maintenanceReasons(),
      ...(pending && { pendingMaintenance: pending }),
      jobs: this.parts.scheduler.stats(),
      held: table.notRunning(),
      disabled: table.disabledNow(),
      release: this.release.version,
      incarnation: restartModes.incarnations().current?.incarnation ?? 0,
      services: table.hostsNow().map((s) => ({
        name: s.name,
        version: s.version,
        sessions: s.sessionCount,
        acceptor: { ok: s.acceptor.check().ok, suspended: s.acceptor.isSuspended },
        state: restartModes.stateContract(s.name),
        stats: s.stats.snapshot(),
      })),
      supervision: table.supervision(),
      ...(pairs.length > 0 && { redundancy: pairs }),
      actors: registry.counts(),
      namedActors: named.names(),
      loadedModules: loadedModuleCount(),
      loadedVersions: loadedVersions(),
      upgrading: upgrader.lock.running,
      lastUpgrade: last && {
        id: last.id,
        outcome: last.outcome,
        from: last.from,
        to: last.to,
        pauseMs: last.pauseMs,
      },
    };
  }

  /** Graceful stop: acceptors drain, channels end, named actors are released, then NATS drains. */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  /** What a graceful stop in progress is still doing (undefined before the stop and after it). */
  get stopStage(): string | undefined {
    return this.stage;
  }

  /** @internal The hosts of the running services (tests and benchmarks look inside). */
  get services(): ReadonlyMap<string, ServiceHost> {
    return this.parts.table.running;
  }

  /** @internal The actor registry: every actor of the node by group. */
  get actors(): ActorRegistry {
    return this.parts.registry;
  }

  /** @internal Named-actor ownership. */
  get named(): NamedActors {
    return this.parts.named;
  }

  /** @internal The node's presence record (heartbeats). */
  get presence(): Presence {
    return this.parts.presence;
  }

  /** @internal The restart modes (persistence of kept state). */
  get restartModes(): RestartModes {
    return this.parts.restartModes;
  }

  /** @internal Maintenance mode, for tests that add a reason without its ceremony. */
  get maintenance(): Maintenance {
    return this.parts.maintenance;
  }

  private maintenanceReasons(): MaintenanceEntry[] {
    return this.parts.maintenance.reasons();
  }

  private async shutdown(): Promise<void> {
    const { log, lifecycle, scheduler, maintenance, restartModes, table, named, presence } = this.parts;
    log.info({ node: this.id }, 'node stopping');
    lifecycle.send({ type: 'STOP' });
    scheduler.stopAll();
    maintenance.stop();
    // Kept sessions are parked (persisted, the client told it may resume), not ended.
    restartModes.stopping = true;
    // An active of a redundant pair hands over first, so its partner takes over while this node stops.
    this.stage = 'handing redundant services over';
    await this.parts.redundant.stop(log);
    this.stage = 'stopping services and parking sessions';
    await table.stop();
    this.stage = 'releasing named actors';
    await named.stopAll();
    this.stage = 'writing kept state';
    await restartModes.stop();
    this.stage = 'leaving presence';
    await presence.stop();
    lifecycle.send({ type: 'STOPPED' });
    this.stage = 'draining the NATS connection';
    if (this.parts.ownsConnection) await this.parts.nc.drain();
    this.stage = undefined;
    log.info({ node: this.id }, 'node stopped');
  }
}

/** Starts a node (see {@link NodeOptions}). */
export function startNode(opts: NodeOptions): Promise<RelupNode> {
  return RelupNode.start(opts);
}
