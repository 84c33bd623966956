import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { renderError } from '../errors.ts';
import { leaseTiming } from '../nats/lease-timing.ts';
import type { TermStamp } from '../nats/term-header.ts';
import { PairControl } from '../redundancy/pair-control.ts';
import {
  type PairHost,
  PairRunner,
  type PairRunnerOptions,
  type PairStatus,
  type PairTransitionEvent,
} from '../redundancy/pair-runner.ts';
import type { ReleaseService } from '../release/manifest.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import type { TermGate } from '../services/term-gate.ts';
import type { ServiceTable } from './service-table.ts';
import type { IdleServices } from './upgrade/upgrade-runtime.ts';

/** The least time a new pair's backup waits for its primary to deploy before it takes the pair itself. */
const DEPLOY_GRACE_MS = 5_000;

/** What the redundant services need from their node. */
export interface RedundantServicesDeps {
  nc: NatsConnection;
  node: string;
  prefix?: string;
  log: Logger;
  table: ServiceTable;
  /** Writes every kept actor that changed: the final state an active leaves for the next one. */
  flush: () => Promise<void>;
  /** Every transition, as a node event. */
  onTransition: (e: PairTransitionEvent) => void;
  replicas?: number;
}

/** A service of the release declared redundant, with its definition. */
export interface RedundantService {
  def: ServiceDefinition;
  spec: NonNullable<ReleaseService['redundant']>;
}

/**
 * The redundant services of a node: one pair runner per service whose pair names this node,
 * driving the service through the service table. The only owner of which redundant service
 * this node may serve: a service of the release declared redundant takes connects and runs
 * named actors here only while this node is its active on scan.
 */
export class RedundantServices implements TermGate, IdleServices {
  private readonly declared = new Set<string>();
  /** The definition each redundant service starts with here: the release's, or what an upgrade switched to. */
  private readonly defs = new Map<string, ServiceDefinition>();
  private table: ServiceTable | undefined;
  private readonly runners = new Map<string, PairRunner>();
  private readonly controls: PairControl[] = [];
  /** The services whose pair this node stepped out of for maintenance, to rejoin when it ends. */
  private readonly withdrawn = new Set<string>();

  /** Records the services the release declares redundant (before anything starts). */
  declare(services: readonly string[]): void {
    for (const s of services) this.declared.add(s);
  }

  /** Whether a service is redundant, so its work is fenced by term (TermGate). */
  guards(service: string): boolean {
    return this.declared.has(service);
  }

  /** The term this node acts in for a redundant service now: only while it holds the lease and may act. */
  stamp(service: string): TermStamp | undefined {
    const fence = this.runners.get(service)?.fence();
    return fence?.canAct() ? fence : undefined;
  }

  /** Whether this node may take the service's work now: always for a plain service; for a redundant one, only as its active. */
  mayServe(service: string): boolean {
    return !this.declared.has(service) || this.stamp(service) !== undefined;
  }

  /**
   * Starts the pairs this node is part of; `restart` when an earlier run of this node id
   * existed, else `deploy`. A service whose pair names two other nodes does not run here. The
   * pairs of `held` services (the node boots in maintenance) stay withdrawn until {@link rejoin}.
   * Returns the services of the pairs it holds withdrawn.
   */
  async start(
    deps: RedundantServicesDeps,
    services: readonly RedundantService[],
    reason: 'deploy' | 'restart',
    held: ReadonlySet<string> = new Set(),
  ): Promise<string[]> {
    this.table = deps.table;
    for (const { def, spec } of services) {
      if (spec.primary !== deps.node && spec.backup !== deps.node) continue;
      this.defs.set(def.name, def);
      const opts: PairRunnerOptions = {
        service: def.name,
        node: deps.node,
        primary: spec.primary,
        backup: spec.backup,
        mode: spec.mode,
        ...(spec.timing && { timing: spec.timing }),
        // A node's boot takes seconds on a loaded machine: a new pair's backup waits that long
        // for its primary, so a deploy of both ends with the primary active, as declared.
        deployGraceMs: Math.max(leaseTiming(spec.timing).leaseMs, DEPLOY_GRACE_MS),
        ...(def.redundancy && { hooks: def.redundancy }),
        host: this.hostOf(deps, def),
        ...(deps.replicas !== undefined && { replicas: deps.replicas }),
        onTransition: (e) => {
          PairControl.publish(deps.nc, e, deps.prefix);
          deps.onTransition(e);
        },
      };
      const withdrawn = held.has(def.name);
      const runner = withdrawn
        ? PairRunner.withdrawn(deps.nc, opts)
        : await PairRunner.start(deps.nc, opts, reason);
      if (withdrawn) this.withdrawn.add(def.name);
      this.runners.set(def.name, runner);
      this.controls.push(PairControl.serve(deps.nc, () => runner, def.name, deps.node, deps.prefix));
    }
    return [...this.withdrawn];
  }

  /**
   * Steps this node out of the pair of every redundant service maintenance does not keep: an
   * active hands the service over first (its sessions parked for the partner, which takes it in
   * the scan state it had), a standby stops standing by, and neither is elected until
   * {@link rejoin}. Returns the services withdrawn; a pair this node had left already (shut
   * down, undeployed) is not one. A failed hand-over still leaves the node out of the pair (the
   * partner takes over when the lease runs out): it counts as withdrawn, and the error is thrown
   * once every pair was tried.
   */
  async withdraw(keeps: (def: ServiceDefinition) => boolean): Promise<string[]> {
    const out: string[] = [];
    let failure: unknown;
    for (const [service, runner] of this.runners) {
      const def = this.table?.get(service)?.def ?? this.defs.get(service);
      if (this.withdrawn.has(service) || (def && keeps(def))) continue;
      const applied = await runner.withdraw().catch((err: unknown) => {
        failure ??= err;
        return true;
      });
      if (!applied) continue;
      this.withdrawn.add(service);
      out.push(service);
    }
    if (failure !== undefined) throw failure;
    return out;
  }

  /**
   * Rejoins every pair this node stepped out of (a standby again, campaigning). A pair whose
   * rejoin fails (the store out of reach) stays withdrawn, for the next try.
   */
  async rejoin(): Promise<{ rejoined: string[]; failed: { service: string; error: unknown }[] }> {
    const rejoined: string[] = [];
    const failed: { service: string; error: unknown }[] = [];
    for (const service of [...this.withdrawn]) {
      try {
        await this.runners.get(service)?.rejoin();
        this.withdrawn.delete(service);
        rejoined.push(service);
      } catch (error) {
        failed.push({ service, error });
      }
    }
    return { rejoined, failed };
  }

  /**
   * Hands a redundant service over to its partner when this node is its active (a forced
   * failover: the hooks run, sessions are parked, the lease released); false when this node is
   * not its active. Resolves once this node has given the lease up.
   */
  async switchOver(service: string): Promise<boolean> {
    const runner = this.runners.get(service);
    if (!runner || this.stamp(service) === undefined) return false;
    await runner.failover();
    return true;
  }

  /** The definition a redundant service of this node's pairs starts with, while it does not run here (IdleServices). */
  definition(service: string): ServiceDefinition | undefined {
    return this.table?.has(service) ? undefined : this.defs.get(service);
  }

  /** Every redundant service of this node's pairs that does not run here now. */
  definitions(): ServiceDefinition[] {
    return [...this.defs.values()].filter((d) => !this.table?.has(d.name));
  }

  /** Replaces the definition an idle redundant service starts with (an upgrade of a legacy standby). */
  load(def: ServiceDefinition): void {
    if (this.defs.has(def.name)) this.defs.set(def.name, def);
  }

  /** Each pair as this node sees it, for status. */
  status(): PairStatus[] {
    return [...this.runners.values()].map((r) => r.status());
  }

  /** Graceful shutdown of every pair: an active hands over (hooks run) before the node stops its services. */
  async stop(log: Logger): Promise<void> {
    for (const c of this.controls.splice(0)) c.stop();
    for (const [service, r] of this.runners)
      await r
        .shutdown()
        .catch((err: unknown) =>
          log.warn({ service, error: renderError(err) }, 'redundancy: graceful shutdown of the pair failed'),
        );
    this.runners.clear();
  }

  /** How a pair runner drives the service here: start and stop it, open and hold its intake, hand its state over. */
  private hostOf(deps: RedundantServicesDeps, def: ServiceDefinition): Partial<PairHost> {
    const { table } = deps;
    return {
      startService: async () => {
        // The host starts with its acceptor closed (mayServe is false until the lease is held),
        // with the code it last ran or an upgrade switched it to meanwhile.
        if (!table.has(def.name)) await table.add(this.defs.get(def.name) ?? def);
      },
      stopService: async () => {
        const host = table.get(def.name);
        if (!host) return;
        this.defs.set(def.name, host.def);
        await table.remove(def.name);
      },
      openIntake: () => {
        table.get(def.name)?.openIntake();
        void deps.nc.flush().catch(() => {});
      },
      holdIntake: () => {
        table.get(def.name)?.holdIntake();
      },
      discard: async () => {
        await table.get(def.name)?.discard();
      },
      flush: async () => {
        // The next active restores what this one leaves: parked sessions and released actors.
        await table.get(def.name)?.handOver('failover');
        await deps.flush();
      },
    };
  }
}
