import { join, resolve } from 'node:path';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import pino, { type Logger } from 'pino';
import type { ChildSpec } from '../actors/child-spec.ts';
import { ActorRegistry } from '../actors/registry.ts';
import { type Supervisor, startSupervisor } from '../actors/supervisor.ts';
import { RelupError } from '../errors.ts';
import { connectNats, type NatsOptions } from '../nats/connect.ts';
import { subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';
import { loadedModuleCount, loadedVersions, loadService } from '../release/code-loader.ts';
import { listReleases, type ReleaseManifest, readManifest } from '../release/manifest.ts';
import { openReleaseStore, type ReleaseStore } from '../release/release-store.ts';
import { UpgradeLock } from '../relup/executor-lock.ts';
import { type Journal, openJournal } from '../relup/journal.ts';
import { createRegistry, type Registry } from '../relup/registry.ts';
import type { UpgradeReport } from '../relup/upgrade-report.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import { NamedActors } from '../services/named-actors.ts';
import { Presence } from '../services/presence.ts';
import { ServiceHost, type ServiceHostDeps } from '../services/service-host.ts';

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
  release: string;
  services: {
    name: string;
    version: string;
    sessions: number;
    acceptor: { ok: boolean; suspended: boolean };
  }[];
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
  private stopping: Promise<void> | undefined;

  private get serviceDeps(): ServiceHostDeps {
    return {
      nc: this.nc,
      subjects: this.subjects,
      registry: this.registry,
      named: this.named,
      log: this.log,
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
  ) {}

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
      const [nodesKv, actorsKv]: KV[] = await Promise.all([
        kvm.create('relup_nodes', { history: 1 }),
        kvm.create('relup_actors', { history: 1 }),
      ]);
      const store = await openReleaseStore(nc);
      const journal = await openJournal(nc, opts.nodeId);
      // A node that died mid-upgrade boots its permanent release; the journal says what was cut short.
      const interrupted = await journal.active();
      if (interrupted)
        log.warn(
          { upgrade: interrupted },
          'an upgrade was interrupted on this node; booting the permanent release',
        );
      const version = opts.release ?? (await store.permanent())?.version ?? (await newest(opts.releasesDir));
      const dir = join(opts.releasesDir, version);
      const manifest = await readManifest(dir);
      const presence = new Presence(nodesKv as KV, opts.nodeId, opts.heartbeatMs);
      await presence.start();
      let node: RelupNode | undefined;
      const registry = new ActorRegistry();
      const named = new NamedActors(nc, actorsKv as KV, subjects, presence, registry, (name) => {
        const [service, kind] = name.split('.');
        const host = node?.services.get(service ?? '');
        const logic = host?.def.actors?.[kind ?? ''];
        return host && logic ? { service: host.name, logic, version: host.version } : undefined;
      });
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
      );
      const defs = [];
      for (const entry of manifest.services) defs.push(await loadService(dir, manifest, entry.name));
      const rootNode = node;
      node.root = await startSupervisor({
        name: `root:${opts.nodeId}`,
        strategy: 'one_for_one',
        intensity: 3,
        period: 5000,
        logger: log,
        children: defs.map((def) => rootNode.serviceSpec(def)),
      });
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
      start: () => {
        const def = this.services.get(first.name)?.def ?? first;
        const host = new ServiceHost(def, this.serviceDeps);
        this.services.set(def.name, host);
        return host.start();
      },
    };
  }

  /** A snapshot of the node for operators. */
  status(): NodeStatus {
    return {
      node: this.id,
      release: this.release.version,
      services: [...this.services.values()].map((s) => ({
        name: s.name,
        version: s.version,
        sessions: s.sessionCount,
        acceptor: { ok: s.acceptor.check().ok, suspended: s.acceptor.isSuspended },
      })),
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

  private async shutdown(): Promise<void> {
    this.log.info({ node: this.id }, 'node stopping');
    await this.root.stop();
    await this.named.stopAll();
    await this.presence.stop();
    if (this.ownsConnection) await this.nc.drain();
    this.log.info({ node: this.id }, 'node stopped');
  }
}

/** Starts a node (see {@link NodeOptions}). */
export function startNode(opts: NodeOptions): Promise<RelupNode> {
  return RelupNode.start(opts);
}

async function newest(releasesDir: string): Promise<string> {
  const versions = await listReleases(releasesDir);
  const last = versions[versions.length - 1];
  if (!last) throw new RelupError('UNKNOWN_RELEASE', `no release found in ${releasesDir}`, { releasesDir });
  return last;
}
