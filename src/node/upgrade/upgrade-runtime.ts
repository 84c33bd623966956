import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import semver from 'semver';
import type { AnyActorLogic } from 'xstate';
import {
  ActorHost,
  type Checkpoint,
  type PreparedSwap,
  type VersionedSnapshot,
} from '../../actors/actor-host.ts';
import type { BulkResult } from '../../actors/bulk-result.ts';
import { bulkResume, bulkSuspend } from '../../actors/bulk-suspend.ts';
import type { ActorRegistry } from '../../actors/registry.ts';
import { RelupError } from '../../errors.ts';
import { loadService, verifyRelease } from '../../release/code-loader.ts';
import { importModule } from '../../release/module-import.ts';
import type { CodeChangeRequest, UpgradeRuntime } from '../../relup/runtime.ts';
import { migrator, type ServiceDefinition } from '../../services/define-service.ts';
import type { NamedActors } from '../../services/named-actors.ts';
import type { ChannelRecord, NamedRecord, SnapshotStore } from '../../services/snapshot-store.ts';
import type { PersistedComponent } from '../../services/state-persistence.ts';
import type { Maintenance } from '../maintenance/maintenance.ts';
import type { RunningRelease } from '../node-types.ts';
import type { ServiceTable } from '../service-table.ts';

/** A swap prepared before the point of no return, with what the actor was then. */
interface Preflighted {
  swap: PreparedSwap;
  handled: number;
  version: string;
}

/** The parts of a node an upgrade acts on. */
export interface UpgradePorts {
  node: string;
  log: Logger;
  table: ServiceTable;
  named: NamedActors;
  registry: ActorRegistry;
  maintenance: Maintenance;
  /** Resolves once the server has seen everything sent before (the channels' subscriptions included). */
  flush(): Promise<void>;
  /** The kept state of services (restart modes): where it is stored and which components keep it. */
  kept: { store: SnapshotStore; keeps(service: string, component: PersistedComponent): boolean };
  /** Hands a redundant service over to its partner when this node is its active (see RedundantServices). */
  switchOver(service: string): Promise<boolean>;
  /** Redundant services that do not run on this node now (a legacy standby): an upgrade only switches the code they will start with. */
  idle: IdleServices;
}

/** The redundant services a node does not run now, with the definitions they would start with. */
export interface IdleServices {
  /** The definition the service would start with here, when it is redundant and does not run here now. */
  definition(service: string): ServiceDefinition | undefined;
  /** Every such definition. */
  definitions(): ServiceDefinition[];
  /** Replaces the definition an idle service starts with. */
  load(def: ServiceDefinition): void;
}

/**
 * The node side of an upgrade: what each instruction does to this node's acceptors, actors
 * and code. One per upgrade, holding the code it prepared and the checkpoints a rollback needs.
 */
export class NodeUpgradeRuntime implements UpgradeRuntime {
  /** Definitions by service and version: the running ones and those prepared by load_object_code. */
  private readonly defs = new Map<string, Map<string, ServiceDefinition>>();
  private readonly checkpoints = new Map<string, { actor: ActorHost; cp: Checkpoint }[]>();
  /** Swaps prepared by pre-flight, by `service@version`, for code_change to commit. */
  private readonly preflighted = new Map<string, Map<ActorHost, Preflighted>>();
  /** Records of held services as they were before code_change migrated them in the store, for a rollback. */
  private readonly heldOriginals = new Map<string, KeptRecord[]>();

  constructor(
    private readonly ports: UpgradePorts,
    readonly from: RunningRelease,
    readonly to: RunningRelease,
    private readonly awaitBarrier: () => Promise<void> = async () => {},
  ) {
    for (const host of ports.table.hostsNow()) this.remember(host.def);
    for (const def of ports.table.heldDefinitions()) this.remember(def);
    for (const def of ports.idle.definitions()) this.remember(def);
  }

  async checkAcceptors(): Promise<void> {
    const bad: string[] = [];
    for (const host of this.ports.table.hostsNow()) {
      // An acceptor closed on purpose (a redundant standby, one waiting for start_waiting) is as it should be.
      if (!host.def.channel || !host.intakeOpen) continue;
      const c = host.acceptor.check();
      if (!c.ok) bad.push(c.reason ?? host.name);
    }
    if (bad.length > 0)
      throw new RelupError('CHECK_FAILED', `acceptors not ready: ${bad.join('; ')}`, { bad });
  }

  async checkChannels(): Promise<void> {
    const bad = [...this.ports.table.hostsNow()].flatMap((host) => host.unreachableChannels());
    // The subscriptions are at the server once a round trip has passed: a channel is reachable.
    await this.ports.flush();
    if (bad.length > 0)
      throw new RelupError('CHECK_FAILED', `channels not found: ${bad.join('; ')}`, { bad });
  }

  async suspendAcceptors(): Promise<void> {
    for (const host of this.ports.table.hostsNow()) host.acceptor.suspend();
  }

  async resumeAcceptors(): Promise<void> {
    for (const host of this.ports.table.hostsNow()) host.acceptor.resume();
  }

  suspendChannels(timeoutMs: number): Promise<BulkResult> {
    return bulkSuspend(this.ports.registry.matching('channel:'), timeoutMs);
  }

  async resumeChannels(): Promise<void> {
    bulkResume(this.ports.registry.matching('channel:'));
  }

  async loadObjectCode(service: string, version: string): Promise<void> {
    const def = await loadService(this.to.dir, this.to.manifest, service);
    if (def.version !== version)
      throw new RelupError(
        'LOAD_FAILED',
        `release ${this.to.version} has ${service}@${def.version}, not ${version}`,
      );
    this.remember(def);
  }

  async unloadObjectCode(service: string, version: string): Promise<void> {
    // The module stays imported (Node never unloads one); only the prepared definition is dropped.
    if (this.ports.table.get(service)?.version !== version) this.defs.get(service)?.delete(version);
  }

  suspendService(service: string, timeoutMs: number): Promise<BulkResult> {
    return bulkSuspend(this.ports.named.ownedBy(service), timeoutMs);
  }

  async resumeService(service: string): Promise<void> {
    bulkResume(this.ports.named.ownedBy(service));
  }

  async switchCode(service: string, version: string): Promise<void> {
    const def = this.def(service, version);
    // A legacy standby runs nothing of the service: it starts with this code when it takes over.
    if (this.ports.idle.definition(service)) {
      this.ports.idle.load(def);
      return;
    }
    // A service held stopped by maintenance takes the new code when it starts again.
    if (this.ports.table.heldDefinition(service) && !this.ports.table.has(service))
      this.ports.table.hold(def);
    else this.host(service).load(def);
  }

  async codeChange(service: string, req: CodeChangeRequest): Promise<void> {
    // Nothing of an idle redundant service lives here, and its stored state is the active's: the
    // node that restores it brings it to its own code then.
    if (this.ports.idle.definition(service)) return;
    if (this.isHeld(service)) return this.codeChangeHeld(service, req);
    if (req.direction === 'down' && this.revert(service)) return;
    const prepared = this.prepareSwaps(service, req);
    this.checkpoints.set(
      service,
      prepared.map((p) => ({ actor: p.actor, cp: p.actor.checkpoint() })),
    );
    for (const p of prepared) p.commit();
  }

  async preflightCodeChange(service: string, req: CodeChangeRequest): Promise<void> {
    if (this.ports.idle.definition(service)) return;
    if (this.isHeld(service)) {
      await this.migrateHeld(service, req, 'PREFLIGHT_FAILED');
      return;
    }
    const kept = new Map<ActorHost, Preflighted>();
    for (const { actor, logic, migrate } of this.targets(service, req)) {
      const onCopy = migrateCopy(migrate);
      try {
        if (actor.inFlight) actor.checkRestore(logic, onCopy);
        else {
          // Kept for code_change: an actor that handles no message before it needs no second
          // migration inside the pause (measured: 10k channels, pause 80 → ~25 ms).
          kept.set(actor, {
            swap: actor.prepareSwap(logic, req.to, onCopy),
            handled: actor.handled,
            version: actor.version,
          });
        }
      } catch (err) {
        throw new RelupError(
          'PREFLIGHT_FAILED',
          `code_change of ${service} ${req.from} → ${req.to} fails for actor ${actor.id}: ${(err as Error).message}`,
          { service, actor: actor.id },
        );
      }
    }
    this.preflighted.set(`${service}@${req.to}`, kept);
  }

  async startService(service: string, version: string): Promise<void> {
    await this.ports.table.add(this.def(service, version));
  }

  switchOver(service: string): Promise<boolean> {
    return this.ports.switchOver(service);
  }

  async stopService(service: string): Promise<void> {
    await this.ports.table.remove(service);
  }

  async apply(module: string, args: Record<string, unknown>, direction: 'up' | 'down'): Promise<void> {
    // Migration scripts of both directions ship with the newer release: it knows both shapes.
    const release = semver.gt(this.to.version, this.from.version) ? this.to : this.from;
    const verified = await verifyRelease(release.dir, release.manifest);
    const path = verified.paths[module];
    if (!path)
      throw new RelupError('LOAD_FAILED', `apply: ${module} is not a file of release ${release.version}`, {
        module,
      });
    const mod = (await importModule(pathToFileURL(path).href)) as { default?: unknown };
    if (typeof mod.default !== 'function')
      throw new RelupError('LOAD_FAILED', `apply: ${module} must export a default function`, { module });
    await (mod.default as (a: unknown) => unknown)({
      args,
      direction,
      node: this.ports.node,
      log: this.ports.log,
    });
  }

  barrier(): Promise<void> {
    return this.awaitBarrier();
  }

  async notifyClients(message: string): Promise<number> {
    return this.ports.maintenance.notify({ type: 'notice', message });
  }

  grace(ms: number, message: string, signal: AbortSignal): Promise<void> {
    return this.ports.maintenance.countdown(ms, message, undefined, signal);
  }

  disconnectClients(reason: string): Promise<number> {
    return this.ports.maintenance.disconnect({ reason, keepSuperAdmins: true });
  }

  async maintenance(on: boolean, message: string, until: string | undefined): Promise<void> {
    if (on) await this.ports.maintenance.enter({ message, ...(until && { until }) });
    else await this.ports.maintenance.leave('manual');
  }

  serviceVersion(service: string): string | undefined {
    return (
      this.ports.table.get(service)?.def ??
      this.ports.table.heldDefinition(service) ??
      this.ports.idle.definition(service)
    )?.version;
  }

  log(message: string, fields?: Record<string, unknown>): void {
    this.ports.log.info({ ...fields }, message);
  }

  /** Every actor of a service with the logic it moves to and its migration. */
  private *targets(service: string, req: CodeChangeRequest) {
    const target = this.def(service, req.to);
    const owner = req.direction === 'up' ? target : this.def(service, req.from);
    const host = this.ports.table.get(service);
    if (!host && this.ports.table.heldDefinition(service)) return; // stopped by maintenance: no live actors to migrate
    for (const actor of this.host(service).channelActors()) {
      if (!target.channel) throw new RelupError('SWAP_FAILED', `${service}@${req.to} has no channel logic`);
      yield { actor, logic: target.channel, migrate: migrator(owner, { ...req, kind: 'channel' }) };
    }
    for (const actor of this.ports.named.ownedBy(service)) {
      const kind = actor.id.split('.')[1] ?? '';
      const logic: AnyActorLogic | undefined = target.actors?.[kind];
      if (!logic) throw new RelupError('SWAP_FAILED', `${service}@${req.to} has no actor kind ${kind}`);
      yield { actor, logic, migrate: migrator(owner, { ...req, kind }) };
    }
  }

  private prepareSwaps(service: string, req: CodeChangeRequest): PreparedSwap[] {
    const kept = this.preflighted.get(`${service}@${req.to}`);
    this.preflighted.delete(`${service}@${req.to}`);
    const out: PreparedSwap[] = [];
    for (const { actor, logic, migrate } of this.targets(service, req)) {
      const pre = kept?.get(actor);
      // The pre-flight result stands only if the actor has not moved since.
      if (pre && pre.handled === actor.handled && pre.version === actor.version) out.push(pre.swap);
      else out.push(actor.prepareSwap(logic, req.to, migrate));
    }
    return out;
  }

  /** Stopped by maintenance: its state is only in the store. */
  private isHeld(service: string): boolean {
    return !this.ports.table.has(service) && this.ports.table.heldDefinition(service) !== undefined;
  }

  /**
   * code_change of a service maintenance holds stopped: the state it kept (this node's released
   * named actors and parked sessions) is migrated in the store with the relup's request, as live
   * actors would be, so the service starts on migrated state; a rollback writes the originals back.
   */
  private async codeChangeHeld(service: string, req: CodeChangeRequest): Promise<void> {
    const store = this.ports.kept.store;
    const originals = this.heldOriginals.get(service);
    if (req.direction === 'down' && originals) {
      for (const r of originals) await writeKept(store, r);
      this.heldOriginals.delete(service);
      return;
    }
    const migrated = await this.migrateHeld(service, req, 'SWAP_FAILED');
    this.heldOriginals.set(
      service,
      migrated.map((m) => m.original),
    );
    for (const m of migrated) await writeKept(store, m.migrated);
  }

  /** Each kept record of a held service at `req.from`, with its migration to `req.to` (checked to restore). */
  private async migrateHeld(
    service: string,
    req: CodeChangeRequest,
    code: 'PREFLIGHT_FAILED' | 'SWAP_FAILED',
  ): Promise<{ original: KeptRecord; migrated: KeptRecord }[]> {
    const modes = this.ports.kept;
    const target = this.def(service, req.to);
    const owner = req.direction === 'up' ? target : this.def(service, req.from);
    const kept: KeptRecord[] = [];
    if (modes.keeps(service, 'channels'))
      for (const { value } of await modes.store.channels(this.ports.node, service))
        if (value.final) kept.push({ channel: value });
    if (modes.keeps(service, 'service'))
      for (const { value } of await modes.store.named(service))
        if (value.node === this.ports.node && value.final && !(await this.ports.named.ownerOf(value.name)))
          kept.push({ named: value });
    const out: { original: KeptRecord; migrated: KeptRecord }[] = [];
    for (const original of kept) {
      const rec = original.channel ?? original.named;
      if (!rec || rec.snapshot.version !== req.from) continue;
      const kind = original.channel ? 'channel' : (original.named?.name.split('.')[1] ?? '');
      const id = original.channel?.session ?? original.named?.name ?? '';
      const logic: AnyActorLogic | undefined = original.channel ? target.channel : target.actors?.[kind];
      try {
        if (!logic) throw new Error(`${service}@${req.to} has no ${kind} logic`);
        const snapshot = migrateCopy(migrator(owner, { ...req, kind }))(rec.snapshot);
        if (!ActorHost.restores(logic, snapshot)) throw new Error('the migrated snapshot does not restore');
        const moved = { ...rec, snapshot: { version: req.to, snapshot }, at: Date.now() };
        out.push({
          original,
          migrated: original.channel ? { channel: moved as ChannelRecord } : { named: moved as NamedRecord },
        });
      } catch (err) {
        throw new RelupError(
          code,
          `code_change of ${service} ${req.from} → ${req.to} fails for stored ${id}: ${(err as Error).message}`,
          { service, actor: id },
        );
      }
    }
    return out;
  }

  /** Rollback of a code change: exact checkpoints when no message was taken since; false otherwise. */
  private revert(service: string): boolean {
    const saved = this.checkpoints.get(service);
    if (!saved) return false;
    if (saved.some(({ actor, cp }) => actor.handled !== cp.handled)) return false;
    for (const { actor, cp } of saved) actor.revert(cp);
    this.checkpoints.delete(service);
    return true;
  }

  private remember(def: ServiceDefinition): void {
    let byVersion = this.defs.get(def.name);
    if (!byVersion) {
      byVersion = new Map();
      this.defs.set(def.name, byVersion);
    }
    byVersion.set(def.version, def);
  }

  private def(service: string, version: string): ServiceDefinition {
    const def = this.defs.get(service)?.get(version);
    if (!def)
      throw new RelupError('LOAD_FAILED', `${service}@${version} is not loaded (load_object_code first)`, {
        service,
        version,
      });
    return def;
  }

  private host(service: string) {
    const host = this.ports.table.get(service);
    if (!host) throw new RelupError('UNKNOWN_SERVICE', `service ${service} does not run on this node`);
    return host;
  }
}

/** A kept record of a service held stopped: a parked session or a released named actor. */
interface KeptRecord {
  channel?: ChannelRecord;
  named?: NamedRecord;
}

function writeKept(store: SnapshotStore, r: KeptRecord): Promise<void> {
  return r.channel ? store.putChannel(r.channel) : store.putNamed(r.named as NamedRecord);
}

/**
 * Migrates a copy of a persisted snapshot (without a codeChange: the copy's state as it is), so
 * the original stays untouched whatever the migration does: a live actor's or a stored record's.
 */
function migrateCopy(
  migrate: ((p: VersionedSnapshot) => unknown) | undefined,
): (p: VersionedSnapshot) => unknown {
  return (p) => {
    const copy = structuredClone(p);
    return migrate ? migrate(copy) : copy.snapshot;
  };
}
