import { join, resolve } from 'node:path';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import pino, { type Logger } from 'pino';
import semver from 'semver';
import { type Actor, createActor } from 'xstate';
import { ActorRegistry } from '../actors/registry.ts';
import { startSupervisor } from '../actors/supervisor.ts';
import { type ErrorBody, RelupError } from '../errors.ts';
import { connectNats } from '../nats/connect.ts';
import { PeerSeal } from '../nats/peer-seal.ts';
import { replicasFor } from '../nats/replicas.ts';
import { retryStore } from '../nats/store-retry.ts';
import { assertSubjectToken, subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';
import { loadService } from '../release/code-loader.ts';
import { ENGINE_VERSION } from '../release/engine-version.ts';
import { listReleases, type ReleaseManifest, readManifest } from '../release/manifest.ts';
import { checkReleaseSignature } from '../release/release-signature.ts';
import { openReleaseStore, type ReleaseStore } from '../release/release-store.ts';
import { type Journal, openJournal } from '../relup/journal.ts';
import { createRegistry } from '../relup/registry.ts';
import type { UpgradeProgress, UpgradeReport } from '../relup/upgrade-report.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import { EventJournal } from '../services/event-journal.ts';
import { NamedActors } from '../services/named-actors.ts';
import { OwnershipFence } from '../services/ownership-fence.ts';
import { Presence } from '../services/presence.ts';
import { ServiceHost, type ServiceHostDeps } from '../services/service-host.ts';
import { SessionIssuer } from '../services/session-credentials.ts';
import { SnapshotStore } from '../services/snapshot-store.ts';
import { CurrentRelease } from './current-release.ts';
import { lifecycleMachine } from './lifecycle.ts';
import { HeldAcceptors } from './maintenance/held-acceptors.ts';
import { Maintenance } from './maintenance/maintenance.ts';
import { sessionPolicy } from './maintenance/session-policy.ts';
import { NodeEvents } from './node-events.ts';
import type { NodeOptions } from './node-types.ts';
import { RedundantServices } from './redundant-services.ts';
import { RestartModes } from './restart-modes.ts';
import { Scheduler } from './scheduler.ts';
import { ServiceTable } from './service-table.ts';
import { Upgrader } from './upgrade/upgrade.ts';

/** The parts of a running node, built by {@link bootNode} in dependency order. */
export interface NodeParts {
  id: string;
  nc: NatsConnection;
  ownsConnection: boolean;
  subjects: Subjects;
  log: Logger;
  registry: ActorRegistry;
  presence: Presence;
  named: NamedActors;
  store: ReleaseStore;
  journal: Journal;
  releasesDir: string;
  /** Keys one of which must have signed every release the node loads; any sealed release when absent. */
  releaseKeys: readonly string[] | undefined;
  lifecycle: Actor<typeof lifecycleMachine>;
  events: NodeEvents;
  scheduler: Scheduler;
  release: CurrentRelease;
  restartModes: RestartModes;
  redundant: RedundantServices;
  table: ServiceTable;
  maintenance: Maintenance;
  upgrader: Upgrader;
}

/**
 * Boots a node: checks the options, connects, opens the buckets, closes an upgrade a dead run
 * left in flight, resolves the release, loads its services, checks their dependencies (a
 * dependency error boots into maintenance instead of refusing to start) and starts them.
 */
export async function bootNode(opts: NodeOptions): Promise<NodeParts> {
  if (!opts) throw new RelupError('BAD_OPTIONS', 'startNode needs its options');
  assertSubjectToken('nodeId', opts.nodeId);
  if (typeof opts.releasesDir !== 'string') throw new RelupError('BAD_OPTIONS', 'releasesDir is required');
  const id = opts.nodeId;
  const log = opts.logger ?? pino({ name: 'relup', level: process.env.LOG_LEVEL ?? 'info' });
  const ownsConnection = typeof opts.nats === 'string' || !('publish' in opts.nats);
  const nc =
    typeof opts.nats === 'string'
      ? await connectNats({ servers: opts.nats, name: `relup-${id}` })
      : 'publish' in opts.nats
        ? opts.nats
        : await connectNats({ name: `relup-${id}`, ...opts.nats });
  try {
    return await bootOn(nc, ownsConnection, opts, log);
  } catch (err) {
    if (ownsConnection) await nc.close().catch(() => {});
    throw err;
  }
}

async function bootOn(
  nc: NatsConnection,
  ownsConnection: boolean,
  opts: NodeOptions,
  log: Logger,
): Promise<NodeParts> {
  const id = opts.nodeId;
  const subjects = makeSubjects(opts.prefix);
  const kvm = new Kvm(nc);
  const replicas = replicasFor(nc, opts.replicas);
  const [nodesKv, actorsKv]: KV[] = await Promise.all([
    kvm.create('relup_nodes', { history: 1, replicas }),
    kvm.create('relup_actors', { history: 1, replicas }),
  ]);
  const store = await openReleaseStore(nc, { replicas });
  const snapshots = await SnapshotStore.open(nc, replicas);
  const eventJournal = await EventJournal.open(nc, id, replicas);
  const journal = await openJournal(nc, id, { keep: opts.upgradeHistory, replicas });
  // A node that died mid-upgrade boots its permanent release; the journal says what was cut short.
  const interrupted = await closeInterrupted(journal, log);
  // After a restart, status still tells how the last upgrade ended.
  const last = interrupted ?? lastReport(await journal.history());
  const version = opts.release ?? (await store.permanent())?.version ?? (await newest(opts.releasesDir));
  const dir = join(opts.releasesDir, version);
  const manifest = await readManifest(dir);
  await checkReleaseSignature(dir, opts.releaseKeys);
  const release = new CurrentRelease({ version, dir, manifest });
  const presence = new Presence(nodesKv as KV, id, opts.heartbeatMs);
  await presence.start();

  const lifecycle = createActor(lifecycleMachine).start();
  const isMaintenance = () => String(lifecycle.getSnapshot().value) === 'maintenance';
  const events = new NodeEvents(nc, subjects.events(id), id, isMaintenance);
  let lastKey: string | undefined;
  lifecycle.subscribe((snap) => {
    const state = String(snap.value);
    const key = `${state}:${snap.context.maintenance.map((m) => m.reason).join(',')}`;
    if (key === lastKey) return;
    lastKey = key;
    events.emit('lifecycle', { state, maintenance: snap.context.maintenance });
  });
  const policy = sessionPolicy(
    opts.superAdminTokens ?? [],
    () => lifecycle.getSnapshot().context.maintenance,
  );
  const heldAcceptors = new HeldAcceptors(nc, subjects, () => policy.refusal());

  // The table is the only writer of the hosts; named actors and restart modes read them.
  const hosts = new Map<string, ServiceHost>();
  const redundant = new RedundantServices();
  redundant.declare(manifest.services.filter((s) => s.redundant).map((s) => s.name));
  const registry = new ActorRegistry();
  const named = new NamedActors(
    nc,
    actorsKv as KV,
    subjects,
    presence,
    registry,
    (name) => {
      const [service, kind] = name.split('.');
      const host = hosts.get(service ?? '');
      const logic = host?.def.actors?.[kind ?? ''];
      // A service waiting to be started (restart mode `cleanup`) has no named actors yet.
      // A redundant service's named actors run only on its active.
      return host?.started && logic && redundant.mayServe(host.name)
        ? { service: host.name, logic, version: host.version }
        : undefined;
    },
    undefined,
    opts.clusterKey === undefined ? undefined : new PeerSeal(opts.clusterKey),
  );
  const restartModes = new RestartModes({
    node: id,
    nc,
    store: snapshots,
    journal: eventJournal,
    services: hosts,
    named,
    presence,
    log,
    manifest: () => release.get().manifest,
    persistIntervalMs: opts.persistIntervalMs,
    restartHookTimeoutMs: opts.restartHookTimeoutMs,
    // Only the pause (acceptors held) waits: durable state is journaled whatever the upgrade does.
    busy: () => [...hosts.values()].some((h) => h.acceptor.isSuspended),
    definition: async (service, version) => {
      const dir = join(opts.releasesDir, version);
      return loadService(dir, await readManifest(dir), service);
    },
  });
  named.persistence = restartModes;
  // What this node owns is checked again whenever its lease may have lapsed.
  const fence = new OwnershipFence(presence);
  fence.add(() => named.dropTakenOver());
  fence.add(async () => {
    for (const host of hosts.values()) await host.dropTakenOver();
  });
  named.fence = fence;
  named.terms = redundant;
  const hostDeps: ServiceHostDeps = {
    nc,
    subjects,
    registry,
    named,
    log,
    policy,
    persistence: restartModes,
    fence,
    issuer: opts.sessionSigner && new SessionIssuer(opts.sessionSigner, subjects),
    terms: redundant,
  };

  const defs: ServiceDefinition[] = [];
  for (const entry of manifest.services) defs.push(await loadService(dir, manifest, entry.name));
  lifecycle.send({ type: 'INITIALIZED' });
  const root = await startSupervisor({
    name: `root:${id}`,
    strategy: 'one_for_one',
    intensity: 3,
    period: 5000,
    logger: log,
    children: [],
  });
  const table = new ServiceTable({
    nc,
    root,
    hosts,
    newHost: (def) => new ServiceHost(def, hostDeps),
    startHost: (host) => restartModes.startHost(host, redundant.mayServe(host.name)),
  });
  const maintenance = new Maintenance({
    nc,
    log,
    lifecycle,
    table,
    heldAcceptors,
    pairs: redundant,
    version: () => release.get().version,
    keepManual: (entry) => store.setManualMaintenance(id, entry),
  });
  const scheduler = new Scheduler((job) =>
    isMaintenance()
      ? (job.allowInMaintenance ?? false) || maintenance.allows(`job:${job.name}`)
      : !['booting', 'stopping', 'stopped'].includes(String(lifecycle.getSnapshot().value)),
  );
  const upgrader = new Upgrader({
    node: id,
    lifecycle,
    journal,
    store,
    instructions: opts.instructions ?? createRegistry(),
    releasesDir: opts.releasesDir,
    relupsDir: resolve(opts.relupsDir ?? 'relups'),
    releaseKeys: opts.releaseKeys,
    release,
    ports: {
      node: id,
      log,
      table,
      named,
      registry,
      maintenance,
      kept: restartModes,
      switchOver: (service) => redundant.switchOver(service),
      idle: redundant,
      flush: () => nc.flush(),
    },
    last,
  });

  // A service whose engine range or required services are not met is a dependency error:
  // the node boots into maintenance instead of refusing to start.
  const problems = dependencyProblems(manifest, defs);
  const broken = new Set(problems.map((p) => p.service));
  // A manual maintenance of the previous run holds until an operator ends it.
  const manual = await store.manualMaintenance(id);
  const inMaintenance = problems.length > 0 || manual !== undefined;
  const startNow = defs.filter((d) => !broken.has(d.name) && (!inMaintenance || d.requiredInMaintenance));
  const pairs = defs.flatMap((def) => {
    const spec = manifest.services.find((s) => s.name === def.name)?.redundant;
    return spec && !broken.has(def.name) ? [{ def, spec }] : [];
  });
  // A redundant service maintenance holds is held by its pair (withdrawn until maintenance ends), not by the table.
  const heldPairs = new Set(pairs.filter(({ def }) => !startNow.includes(def)).map(({ def }) => def.name));
  for (const d of defs) {
    if (broken.has(d.name)) {
      table.markBroken(d);
      maintenance.refuseConnects(d.name);
    } else if (!startNow.includes(d) && !heldPairs.has(d.name)) maintenance.holdAtBoot(d);
  }
  try {
    // One node-wide cleanUpOnRestart phase before anything starts, for every service of the release.
    await restartModes.cleanUpAtBoot(defs);
    for (const def of startNow) if (!redundant.guards(def.name)) await table.add(def);
    // A redundant service starts through its pair: here only if the pair names this node.
    const withdrawn = await redundant.start(
      {
        nc,
        node: id,
        prefix: opts.prefix,
        log,
        table,
        flush: () => restartModes.flush(),
        onTransition: (e) => events.emit('pair_transition', { ...e }),
        ...(opts.replicas !== undefined && { replicas: opts.replicas }),
      },
      pairs,
      restartModes.incarnations().previous ? 'restart' : 'deploy',
      heldPairs,
    );
    for (const name of withdrawn) maintenance.refuseConnects(name);
  } catch (err) {
    // As a supervisor whose initial children fail: those started are stopped again.
    await root.stop();
    throw err;
  }
  // Boot is over: services started from now on do not wait; the write-behind flush runs.
  restartModes.start();
  if (manual) maintenance.addReason({ reason: 'manual', ...manual });
  if (problems.length > 0)
    maintenance.addReason({
      reason: 'dependency_error',
      message: `dependency errors: ${problems.map((p) => `${p.service}: ${p.problem}`).join('; ')}`,
      details: problems,
      since: new Date().toISOString(),
    });
  else if (!manual) lifecycle.send({ type: 'READY' });
  await store.setCurrent(id, version);
  await nc.flush();
  log.info({ node: id, release: version, services: [...hosts.keys()] }, 'node ready');
  return {
    id,
    nc,
    ownsConnection,
    subjects,
    log,
    registry,
    presence,
    named,
    store,
    journal,
    releasesDir: opts.releasesDir,
    releaseKeys: opts.releaseKeys,
    lifecycle,
    events,
    scheduler,
    release,
    restartModes,
    redundant,
    table,
    maintenance,
    upgrader,
  };
}

/**
 * An upgrade the journal shows in flight belonged to a run of this node that died: it is closed
 * as `failed` (the step in flight named), so status reports it and later boots do not warn again.
 */
async function closeInterrupted(journal: Journal, log: Logger): Promise<UpgradeReport | undefined> {
  // A boot must not fail because a loaded JetStream answered a read late.
  const active = await retryStore(() => journal.active());
  if (!active) return undefined;
  const progress = await retryStore(() => journal.get(active.id));
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
