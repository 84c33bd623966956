import { join, resolve } from 'node:path';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import pino, { type Logger } from 'pino';
import semver from 'semver';
import { createActor } from 'xstate';
import type { ChildSpec } from '../actors/child-spec.ts';
import { ActorRegistry } from '../actors/registry.ts';
import { type ChildInfo, type Supervisor, startSupervisor } from '../actors/supervisor.ts';
import { type ErrorBody, RelupError } from '../errors.ts';
import { connectNats, type NatsOptions } from '../nats/connect.ts';
import { PeerSeal } from '../nats/peer-seal.ts';
import { replicasFor } from '../nats/replicas.ts';
import { subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';
import { loadedModuleCount, loadedVersions, loadService } from '../release/code-loader.ts';
import { ENGINE_VERSION } from '../release/engine-version.ts';
import { listReleases, type ReleaseManifest, readManifest } from '../release/manifest.ts';
import { checkReleaseSignature } from '../release/release-signature.ts';
import { openReleaseStore, type ReleaseStore } from '../release/release-store.ts';
import { UpgradeLock } from '../relup/executor-lock.ts';
import { type Journal, openJournal } from '../relup/journal.ts';
import { createRegistry, type Registry } from '../relup/registry.ts';
import type { UpgradeProgress, UpgradeReport } from '../relup/upgrade-report.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import { EventJournal } from '../services/event-journal.ts';
import { NamedActors } from '../services/named-actors.ts';
import { Presence } from '../services/presence.ts';
import { ServiceHost, type ServiceHostDeps } from '../services/service-host.ts';
import type { ServiceStatsSnapshot } from '../services/service-stats.ts';
import { SessionIssuer, type SessionSigner } from '../services/session-credentials.ts';
import { SnapshotStore } from '../services/snapshot-store.ts';
import { HeldAcceptors } from './held-acceptors.ts';
import { type LifecycleState, lifecycleMachine, type MaintenanceEntry } from './lifecycle.ts';
import { NodeEvents } from './node-events.ts';
import { RestartModes } from './restart-modes.ts';
import { type JobStats, Scheduler } from './scheduler.ts';
import { type SessionPolicy, sessionPolicy } from './session-policy.ts';
import type { FailedScript } from './upgrade.ts';

/** Options of a relup node. */
export interface NodeOptions {
  /** A NATS URL (or list), connection options, or a connection to share (not closed on stop). */
  nats: string | NatsOptions | NatsConnection;
  /** Unique in the cluster; a subject-safe token. */
  nodeId: string;
  /** The folder holding `<version>/release.json`. */
  releasesDir: string;
  /** The version to boot; default the cluster's permanent release, else the newest on disk. */
  release?: string;
  /** Subject prefix, default `relup`. */
  prefix?: string;
  logger?: Logger;
  /** Heartbeat period for named-actor ownership, default 1000 ms (lease: 3 beats). */
  heartbeatMs?: number;
  /** The folder holding `<release name>/<from>-<to>.yaml`, default `./relups`. */
  relupsDir?: string;
  /** Instructions and modifications for relups, default the built-ins (add your own to one). */
  registry?: Registry;
  /** Tokens that prove a super-admin at connect (`{ role: 'superadmin', token }`); they pass maintenance. */
  superAdminTokens?: string[];
  /** Period of the write-behind flush of kept sessions and named actors (restart modes), default 500 ms; 0: off. */
  persistIntervalMs?: number;
  /** How many upgrade reports the node's journal keeps, default 50. */
  upgradeHistory?: number;
  /** Copies JetStream keeps of relup's buckets, default what the server reports: 1 alone, up to 3 in a cluster. */
  replicas?: number;
  /** A secret every node holds and no client does: named actors then take only nodes' messages. */
  clusterKey?: string;
  /** The account signing key that gives each session NATS credentials of its own (JWT auth). */
  sessionSigner?: SessionSigner;
  /** Public nkeys of operators trusted to sign releases: boot, fetch and upgrade only to a release one of them signed. */
  releaseKeys?: string[];
}

/** The release a node runs. */
export interface RunningRelease {
  version: string;
  dir: string;
  manifest: ReleaseManifest;
}

/** What `status` reports about a node. */
export interface NodeStatus {
  node: string;
  state: LifecycleState;
  maintenance: MaintenanceEntry[];
  jobs: JobStats[];
  held: string[];
  disabled: string[];
  release: string;
  services: {
    name: string;
    version: string;
    sessions: number;
    acceptor: { ok: boolean; suspended: boolean };
    /**
     * How its kept state is written: `durable` (a reply means it is stored), `write-behind`
     * (a crash loses up to `lossWindowMs` of changes), or `none` (nothing is kept across restarts).
     */
    state: { durability: 'durable' | 'write-behind' | 'none'; lossWindowMs: number | null };
    /** Requests its channels answered and their latency histogram, totals since it started. */
    stats: ServiceStatsSnapshot;
  }[];
  /** The root supervisor's children (one per service) with their restart counts. */
  supervision: { name: string; children: ChildInfo[] };
  actors: Record<string, number>;
  namedActors: string[];
  loadedModules: number;
  loadedVersions: string[];
  upgrading: string | undefined;
  lastUpgrade: { id: string; outcome: string; from: string; to: string; pauseMs?: number } | undefined;
}

const NODE_ID = /^[A-Za-z0-9_-]+$/;

/**
 * A relup node: one NATS connection, the actor registry, named-actor ownership and the
 * services of one release. Start with {@link startNode}.
 */
export class RelupNode {
  readonly services = new Map<string, ServiceHost>();
  /** The root supervisor: one child per service. */
  root!: Supervisor;
  /** One upgrade at a time. */
  readonly lock = new UpgradeLock();
  /** The report of the last upgrade, for status. */
  lastUpgrade: UpgradeReport | undefined;
  /** The high-priority migration script whose failure put the node in maintenance, for retry/skip. */
  failedScript: FailedScript | undefined;
  /** The node lifecycle (an xstate actor): booting → initialized → ready, upgrading, maintenance, stopping. */
  readonly lifecycle = createActor(lifecycleMachine).start();
  /** Node events, published on `<prefix>.evt.<node>` and to in-process listeners. */
  readonly events: NodeEvents;
  /** Scheduled jobs; skipped in maintenance unless allowed there. */
  readonly scheduler = new Scheduler((job) => this.isAllowed(`job:${job.name}`, job.allowInMaintenance));
  /** Services not running now because maintenance stopped them (name → definition). */
  readonly held = new Map<string, ServiceDefinition>();
  /** Services an operator disabled (they stay stopped until the next release). */
  readonly disabled = new Set<string>();
  /** Services with a dependency error: not started until an operator disables them or a release fixes them. */
  readonly broken = new Map<string, ServiceDefinition>();
  private readonly policy: SessionPolicy;
  /** Refuses, with the reason, connects to services maintenance holds stopped. */
  readonly heldAcceptors: HeldAcceptors;
  /** The component restart modes: what survives a node restart, write-behind persistence, startService. */
  restartModes!: RestartModes;
  /** Keys one of which must have signed every release the node loads; any sealed release when absent. */
  releaseKeys: readonly string[] | undefined;
  /** Issues each session its own NATS credentials (decentralized JWT auth), when configured. */
  sessionIssuer: SessionIssuer | undefined;
  private stopping: Promise<void> | undefined;
  private stage: string | undefined;

  private get serviceDeps(): ServiceHostDeps {
    return {
      nc: this.nc,
      subjects: this.subjects,
      registry: this.registry,
      named: this.named,
      log: this.log,
      policy: this.policy,
      persistence: this.restartModes,
      issuer: this.sessionIssuer,
    };
  }

  private constructor(
    readonly id: string,
    readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    readonly subjects: Subjects,
    readonly registry: ActorRegistry,
    readonly log: Logger,
    readonly presence: Presence,
    readonly named: NamedActors,
    readonly store: ReleaseStore,
    readonly journal: Journal,
    readonly instructions: Registry,
    readonly releasesDir: string,
    readonly relupsDir: string,
    public release: RunningRelease,
    superAdminTokens: readonly string[],
  ) {
    this.events = new NodeEvents(nc, subjects.events(id), id, () => this.isMaintenance());
    this.policy = sessionPolicy(superAdminTokens, () => this.lifecycle.getSnapshot().context.maintenance);
    this.heldAcceptors = new HeldAcceptors(nc, subjects, () => this.policy.refusal());
    let last: string | undefined;
    this.lifecycle.subscribe((snap) => {
      const state = String(snap.value);
      const key = `${state}:${snap.context.maintenance.map((m) => m.reason).join(',')}`;
      if (key === last) return;
      last = key;
      this.events.emit('lifecycle', { state, maintenance: snap.context.maintenance });
    });
  }

  /** The lifecycle state: booting, initialized, ready, upgrading, maintenance, stopping or stopped. */
  get state(): LifecycleState {
    return String(this.lifecycle.getSnapshot().value) as LifecycleState;
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
   * declared allowed there (`allowInMaintenance`) or listed in {@link allowedInMaintenance}.
   */
  isAllowed(feature: string, allowInMaintenance = false): boolean {
    if (!this.isMaintenance()) return this.isInitialized();
    return allowInMaintenance || this.allowedInMaintenance.has(feature);
  }

  /** Features (`job:<name>`, `service:<name>`) an operator allows in maintenance besides those declared so. */
  readonly allowedInMaintenance = new Set<string>();

  /** Connects, resolves the release to boot, loads and starts its services. */
  static async start(opts: NodeOptions): Promise<RelupNode> {
    if (!opts || typeof opts.nodeId !== 'string' || !NODE_ID.test(opts.nodeId))
      throw new RelupError('BAD_OPTIONS', 'nodeId must be a subject-safe token ([A-Za-z0-9_-]+)');
    if (typeof opts.releasesDir !== 'string') throw new RelupError('BAD_OPTIONS', 'releasesDir is required');
    const log = opts.logger ?? pino({ name: 'relup', level: process.env.LOG_LEVEL ?? 'info' });
    const owns = typeof opts.nats === 'string' || !('publish' in opts.nats);
    const nc =
      typeof opts.nats === 'string'
        ? await connectNats({ servers: opts.nats, name: `relup-${opts.nodeId}` })
        : 'publish' in opts.nats
          ? opts.nats
          : await connectNats({ name: `relup-${opts.nodeId}`, ...opts.nats });
    try {
      const subjects = makeSubjects(opts.prefix);
      const kvm = new Kvm(nc);
      const replicas = replicasFor(nc, opts.replicas);
      const [nodesKv, actorsKv]: KV[] = await Promise.all([
        kvm.create('relup_nodes', { history: 1, replicas }),
        kvm.create('relup_actors', { history: 1, replicas }),
      ]);
      const store = await openReleaseStore(nc, { replicas });
      const snapshots = await SnapshotStore.open(nc, replicas);
      const events = await EventJournal.open(nc, opts.nodeId, replicas);
      const journal = await openJournal(nc, opts.nodeId, { keep: opts.upgradeHistory, replicas });
      // A node that died mid-upgrade boots its permanent release; the journal says what was cut short.
      const interrupted = await closeInterrupted(journal, log);
      // After a restart, status still tells how the last upgrade ended.
      const last = interrupted ?? lastReport(await journal.history());
      const version = opts.release ?? (await store.permanent())?.version ?? (await newest(opts.releasesDir));
      const dir = join(opts.releasesDir, version);
      const manifest = await readManifest(dir);
      await checkReleaseSignature(dir, opts.releaseKeys);
      const presence = new Presence(nodesKv as KV, opts.nodeId, opts.heartbeatMs);
      await presence.start();
      let node: RelupNode | undefined;
      const registry = new ActorRegistry();
      const named = new NamedActors(
        nc,
        actorsKv as KV,
        subjects,
        presence,
        registry,
        (name) => {
          const [service, kind] = name.split('.');
          const host = node?.services.get(service ?? '');
          const logic = host?.def.actors?.[kind ?? ''];
          // A service waiting to be started (restart mode `cleanup`) has no named actors yet.
          return host?.started && logic ? { service: host.name, logic, version: host.version } : undefined;
        },
        undefined,
        opts.clusterKey === undefined ? undefined : new PeerSeal(opts.clusterKey),
      );
      node = new RelupNode(
        opts.nodeId,
        nc,
        owns,
        subjects,
        registry,
        log,
        presence,
        named,
        store,
        journal,
        opts.registry ?? createRegistry(),
        opts.releasesDir,
        resolve(opts.relupsDir ?? 'relups'),
        { version, dir, manifest },
        opts.superAdminTokens ?? [],
      );
      const running = node;
      node.lastUpgrade = last;
      node.releaseKeys = opts.releaseKeys;
      if (opts.sessionSigner) node.sessionIssuer = new SessionIssuer(opts.sessionSigner, subjects);
      node.restartModes = new RestartModes({
        node: opts.nodeId,
        nc,
        store: snapshots,
        journal: events,
        services: node.services,
        named,
        presence,
        log,
        manifest: () => running.release.manifest,
        persistIntervalMs: opts.persistIntervalMs,
        // Only the pause (acceptors held) waits: durable state is journaled whatever the upgrade does.
        busy: () => [...running.services.values()].some((h) => h.acceptor.isSuspended),
        definition: async (service, version) => {
          const dir = join(opts.releasesDir, version);
          return loadService(dir, await readManifest(dir), service);
        },
      });
      named.persistence = node.restartModes;
      const defs = [];
      for (const entry of manifest.services) defs.push(await loadService(dir, manifest, entry.name));
      node.lifecycle.send({ type: 'INITIALIZED' });
      // A service whose engine range or required services are not met is a dependency error:
      // the node boots into maintenance (4ALLPORTAL) instead of refusing to start.
      const problems = dependencyProblems(manifest, defs);
      const broken = new Set(problems.map((p) => p.service));
      const rootNode = node;
      const startNow = defs.filter(
        (d) => !broken.has(d.name) && (problems.length === 0 || d.requiredInMaintenance),
      );
      for (const d of defs) if (!startNow.includes(d) && !broken.has(d.name)) node.held.set(d.name, d);
      for (const d of defs) if (broken.has(d.name)) node.broken.set(d.name, d);
      for (const d of defs) if (!startNow.includes(d)) node.heldAcceptors.hold(d.name);
      node.root = await startSupervisor({
        name: `root:${opts.nodeId}`,
        strategy: 'one_for_one',
        intensity: 3,
        period: 5000,
        logger: log,
        children: startNow.map((def) => rootNode.serviceSpec(def)),
      });
      // Boot is over: services started from now on do not wait; the write-behind flush runs.
      node.restartModes.start();
      if (problems.length > 0)
        node.lifecycle.send({
          type: 'MAINTENANCE_ON',
          entry: {
            reason: 'dependency_error',
            message: `dependency errors: ${problems.map((p) => `${p.service}: ${p.problem}`).join('; ')}`,
            details: problems,
            since: new Date().toISOString(),
          },
        });
      else node.lifecycle.send({ type: 'READY' });
      await store.setCurrent(opts.nodeId, version);
      await nc.flush();
      log.info({ node: opts.nodeId, release: version, services: [...node.services.keys()] }, 'node ready');
      return node;
    } catch (err) {
      if (owns) await nc.close().catch(() => {});
      throw err;
    }
  }

  /** Starts a service as a new child of the root supervisor (the relup `start_service`). */
  async addService(def: ServiceDefinition): Promise<void> {
    if (this.services.has(def.name))
      throw new RelupError('DUPLICATE_CHILD', `service ${def.name} already runs`);
    await this.root.startChild(this.serviceSpec(def));
    // The acceptor's SUB is at the server once the flush returns: callers told "started" can connect.
    await this.nc.flush();
  }

  /**
   * Starts what waits of a service whose restart mode is `cleanup` (the service, or only its
   * acceptor); false when nothing waited. UNKNOWN_SERVICE when the service does not run here.
   */
  async startService(name: string): Promise<boolean> {
    const started = await this.restartModes.startService(name);
    if (started) await this.nc.flush();
    return started;
  }

  /** Stops a service gracefully and forgets it (the relup `stop_service`). */
  async removeService(name: string): Promise<void> {
    if (!this.services.has(name)) throw new RelupError('UNKNOWN_SERVICE', `service ${name} does not run`);
    await this.root.terminateChild(`service:${name}`);
    await this.root.deleteChild(`service:${name}`);
    this.services.delete(name);
  }

  /**
   * Services are permanent children of the root supervisor, stopped in reverse start order; a
   * restarted service starts a fresh host with the definition current at that time.
   */
  private serviceSpec(first: ServiceDefinition): ChildSpec {
    return {
      id: `service:${first.name}`,
      restart: 'permanent',
      shutdown: 30_000,
      start: async () => {
        const def = this.services.get(first.name)?.def ?? first;
        const host = new ServiceHost(def, this.serviceDeps);
        this.services.set(def.name, host);
        // The restart modes clean up, restore and start it (or leave it waiting for startService).
        await this.restartModes.startHost(host);
        return host;
      },
    };
  }

  /** A snapshot of the node for operators. */
  status(): NodeStatus {
    return {
      node: this.id,
      state: this.state,
      maintenance: this.lifecycle.getSnapshot().context.maintenance,
      jobs: this.scheduler.stats(),
      held: [...this.held.keys(), ...this.broken.keys()],
      disabled: [...this.disabled],
      release: this.release.version,
      services: [...this.services.values()].map((s) => ({
        name: s.name,
        version: s.version,
        sessions: s.sessionCount,
        acceptor: { ok: s.acceptor.check().ok, suspended: s.acceptor.isSuspended },
        state: this.restartModes.stateContract(s.name),
        stats: s.stats.snapshot(),
      })),
      supervision: { name: this.root.name, children: this.root.whichChildren() },
      actors: this.registry.counts(),
      namedActors: this.named.names(),
      loadedModules: loadedModuleCount(),
      loadedVersions: loadedVersions(),
      upgrading: this.lock.running,
      lastUpgrade: this.lastUpgrade && {
        id: this.lastUpgrade.id,
        outcome: this.lastUpgrade.outcome,
        from: this.lastUpgrade.from,
        to: this.lastUpgrade.to,
        pauseMs: this.lastUpgrade.pauseMs,
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

  private async shutdown(): Promise<void> {
    this.log.info({ node: this.id }, 'node stopping');
    this.lifecycle.send({ type: 'STOP' });
    this.scheduler.stopAll();
    this.heldAcceptors.releaseAll();
    // Kept sessions are parked (persisted, the client told it may resume), not ended.
    this.restartModes.stopping = true;
    this.stage = 'stopping services and parking sessions';
    await this.root.stop();
    this.stage = 'releasing named actors';
    await this.named.stopAll();
    this.stage = 'writing kept state';
    await this.restartModes.stop();
    this.stage = 'leaving presence';
    await this.presence.stop();
    this.lifecycle.send({ type: 'STOPPED' });
    this.stage = 'draining the NATS connection';
    if (this.ownsConnection) await this.nc.drain();
    this.stage = undefined;
    this.log.info({ node: this.id }, 'node stopped');
  }
}

/** Starts a node (see {@link NodeOptions}). */
export function startNode(opts: NodeOptions): Promise<RelupNode> {
  return RelupNode.start(opts);
}

/**
 * An upgrade the journal shows in flight belonged to a run of this node that died: it is closed
 * as `failed` (the step in flight named), so status reports it and later boots do not warn again.
 */
async function closeInterrupted(journal: Journal, log: Logger): Promise<UpgradeReport | undefined> {
  const active = await journal.active();
  if (!active) return undefined;
  const progress = await journal.get(active.id);
  const inFlight = progress?.steps.find((s) => s.result === 'running')?.id ?? 'unknown';
  const now = new Date().toISOString();
  const error: ErrorBody = { code: 'STEP_FAILED', message: 'the node stopped during this step' };
  const report: UpgradeReport = {
    id: active.id,
    release: progress?.release ?? '',
    from: progress?.from ?? '',
    to: progress?.to ?? '',
    direction: progress?.direction ?? 'up',
    passedPonr: active.passedPonr,
    steps: progress?.steps ?? [],
    startedAt: progress?.startedAt ?? now,
    outcome: 'failed',
    error: {
      code: 'STEP_FAILED',
      message: `the node died during ${inFlight}`,
      details: { step: inFlight, error },
    },
    endedAt: now,
    durationMs: 0,
  };
  log.warn(
    { upgrade: active.id, step: inFlight, passedPonr: active.passedPonr },
    'an upgrade was interrupted on this node; booting the permanent release',
  );
  await journal.end(report);
  return report;
}

/** The most recent finished report of a journal's history, if any. */
function lastReport(history: (UpgradeProgress | UpgradeReport)[]): UpgradeReport | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const r = history[i] as UpgradeReport;
    if (r.outcome !== undefined) return r;
  }
  return undefined;
}

/** Services whose engine range or required services the release does not satisfy. */
function dependencyProblems(
  manifest: ReleaseManifest,
  defs: ServiceDefinition[],
): { service: string; problem: string }[] {
  const names = new Set(manifest.services.map((s) => s.name));
  const out: { service: string; problem: string }[] = [];
  for (const entry of manifest.services) {
    if (entry.engine && !semver.satisfies(ENGINE_VERSION, entry.engine))
      out.push({ service: entry.name, problem: `needs engine ${entry.engine}, this is ${ENGINE_VERSION}` });
    const def = defs.find((d) => d.name === entry.name);
    for (const r of new Set([...entry.requires, ...(def?.requires ?? [])]))
      if (!names.has(r))
        out.push({ service: entry.name, problem: `requires service ${r}, which the release lacks` });
  }
  return out;
}

async function newest(releasesDir: string): Promise<string> {
  const versions = await listReleases(releasesDir);
  const last = versions[versions.length - 1];
  if (!last) throw new RelupError('UNKNOWN_RELEASE', `no release found in ${releasesDir}`, { releasesDir });
  return last;
}
