import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/nats-core';
import { callWithin } from '../call-within.ts';
import { RelupError, renderError } from '../errors.ts';
import type { LeaseTiming } from '../nats/lease-timing.ts';
import type { PairHookContext } from '../services/define-service.ts';
import { type ElectionEvent, PairElection } from './election.ts';
import type { Fence } from './fenced-kv.ts';
import {
  displayState,
  type Hook,
  type HookReason,
  initialPairState,
  type PairEffect,
  type PairNodeEvent,
  type PairNodeState,
  type PairRole,
  pairTransition,
  type RedundancyMode,
} from './pair-machine.ts';
import { pairKey, type Scan } from './pair-record.ts';

/** What a hook is told (the context a service's hooks take, its fields narrowed to the pair's). */
export interface HookContext extends PairHookContext {
  hook: Hook;
  role: PairRole;
  mode: RedundancyMode;
  reason: HookReason;
}

/** The hooks of a redundant service; each runs once per transition, awaited, within the hook timeout. */
export type PairHooks = Partial<Record<Hook, (ctx: HookContext) => Promise<void> | void>>;

/** What the node does for a pair: run the service, open and hold its intake, write its final state. */
export interface PairHost {
  /** Starts the service instance here (acceptors held, actors hydrated from the store). */
  startService(): Promise<void> | void;
  /** Stops the service instance here. */
  stopService(): Promise<void> | void;
  /** Lets work in (acceptors, named actors), every piece of it stamped with and checked against `fence`. */
  openIntake(fence: Fence): void;
  /** Holds work at once; nothing new is taken. */
  holdIntake(): void;
  /** Drops the work held here without writing it: another node acts in a newer term (its copy is the live one). */
  discard(): Promise<void> | void;
  /** Writes the final snapshot of every actor under `fence` before the lease is given up. */
  flush(fence: Fence): Promise<void> | void;
}

/** One transition of one node, as an event: the term it happened in and how long it took. */
export interface PairTransitionEvent {
  service: string;
  node: string;
  event: PairNodeEvent['type'];
  from: string;
  to: string;
  term: number;
  hooks: { hook: Hook; reason: HookReason; ms: number; error?: string }[];
  /** Wall-clock ms when it began; `ms` is measured on the monotonic clock. */
  at: number;
  ms: number;
  /** An effect that failed: the node left the pair here (`to` is `down`). */
  error?: string;
}

/** A pair as one node sees it, for operators. */
export interface PairStatus {
  service: string;
  node: string;
  role: PairRole;
  mode: RedundancyMode;
  state: string;
  phase: string;
  term: number;
  /** The highest term this node has seen. */
  highestTerm: number;
  /** The holder of the lease as last seen in the record. */
  holder: string | undefined;
  canAct: boolean;
  lastTransition: PairTransitionEvent | undefined;
}

/** How a node runs one redundant service. */
export interface PairRunnerOptions {
  service: string;
  node: string;
  primary: string;
  backup: string;
  mode: RedundancyMode;
  timing?: Partial<LeaseTiming>;
  /** How long the backup waits for the primary to create a new pair (see PairElection), default the lease. */
  deployGraceMs?: number;
  /** How long each hook may run, default 5 s; a hook that overruns is reported and the transition goes on. */
  hookTimeoutMs?: number;
  hooks?: PairHooks;
  host?: Partial<PairHost>;
  bucket?: string;
  replicas?: number;
  /** Every transition, after its effects ran. */
  onTransition?: (e: PairTransitionEvent) => void;
}

const DEFAULT_HOOK_TIMEOUT_MS = 5000;

/**
 * Runs one redundant service on one node: feeds the election's and the operator's events, one
 * at a time, to the transition function and performs its effects in order. A hook runs inside
 * its transition, so an active's offScan and shutdown hooks complete before its lease is given
 * up; events that arrive meanwhile wait for the transition to finish.
 */
export class PairRunner {
  private state: PairNodeState;
  private election: PairElection | undefined;
  private chain: Promise<void> = Promise.resolve();
  private last: PairTransitionEvent | undefined;
  private readonly role: PairRole;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly opts: PairRunnerOptions,
  ) {
    pairKey(opts.service);
    if (opts.node !== opts.primary && opts.node !== opts.backup)
      throw new RelupError(
        'BAD_OPTIONS',
        `${opts.node} is neither the primary nor the backup of ${opts.service}`,
        {
          service: opts.service,
          primary: opts.primary,
          backup: opts.backup,
        },
      );
    if (opts.primary === opts.backup)
      throw new RelupError('BAD_OPTIONS', `${opts.service}: the primary and the backup must be two nodes`, {
        service: opts.service,
      });
    this.role = opts.node === opts.primary ? 'primary' : 'backup';
    this.state = initialPairState(opts.mode, this.role);
  }

  /** Brings the pair up on this node (`deploy` for a new pair, `restart` for a node coming back). */
  static async start(
    nc: NatsConnection,
    opts: PairRunnerOptions,
    reason: 'deploy' | 'restart',
  ): Promise<PairRunner> {
    const r = new PairRunner(nc, opts);
    await r.send({ type: 'start', reason });
    return r;
  }

  /** This node's side of the pair, kept out of it until {@link rejoin} (a node that boots in maintenance). */
  static withdrawn(nc: NatsConnection, opts: PairRunnerOptions): PairRunner {
    return new PairRunner(nc, opts);
  }

  /** The pair as this node sees it. */
  status(): PairStatus {
    const v = this.election?.view();
    return {
      service: this.opts.service,
      node: this.opts.node,
      role: this.role,
      mode: this.opts.mode,
      state: displayState(this.state),
      phase: this.state.phase,
      term: this.state.term,
      highestTerm: v?.highestTerm ?? 0,
      holder: v?.record?.holder,
      canAct: this.election?.canAct() ?? false,
      lastTransition: this.last,
    };
  }

  /** The fencing token while this node is the active; undefined otherwise. */
  fence(): Fence | undefined {
    return this.election?.fence();
  }

  /** Forced failover (operator): the active stops here and hands over; NOT_ACTIVE elsewhere. */
  failover(): Promise<void> {
    return this.command({ type: 'failover' });
  }

  /** Takes the active on or off scan (operator). */
  setScan(scan: Scan): Promise<void> {
    return this.command({ type: 'scan', scan });
  }

  /**
   * Steps this node out of the pair for maintenance: an active hands the service over first, as
   * in a forced failover; it is not elected again until {@link rejoin}. False when it was out
   * already (shut down or undeployed here), which a rejoin must not undo.
   */
  async withdraw(): Promise<boolean> {
    let applied = true;
    await this.send({ type: 'withdraw' }, () => {
      applied = false;
    });
    return applied;
  }

  /** Ends a withdrawal: a standby again (a warm one runs the service off scan), campaigning. */
  rejoin(): Promise<void> {
    return this.send({ type: 'start', reason: 'maintenance' });
  }

  /** Graceful shutdown of the pair on this node: hooks run, an active hands over off scan. */
  shutdown(): Promise<void> {
    return this.send({ type: 'shutdown' });
  }

  /** Undeploys the pair on this node: hooks run, nobody takes over. */
  undeploy(): Promise<void> {
    return this.send({ type: 'undeploy' });
  }

  /**
   * Stops at once, running no hook and releasing nothing, as when the process dies: the partner
   * takes over after the lease. For a node that must exit without a graceful shutdown.
   */
  abandon(): void {
    this.election?.stop();
    this.election = undefined;
    this.state = initialPairState(this.opts.mode, this.role);
    this.chain = new Promise(() => {});
  }

  private async command(e: PairNodeEvent): Promise<void> {
    let ignored: string | undefined;
    await this.send(e, (why) => {
      ignored = why;
    });
    if (ignored)
      throw new RelupError('NOT_ACTIVE', `${this.opts.service} on ${this.opts.node}: ${ignored}`, {
        service: this.opts.service,
        node: this.opts.node,
        state: displayState(this.state),
      });
  }

  // One transition at a time, in arrival order.
  private send(e: PairNodeEvent, onIgnored?: (why: string) => void): Promise<void> {
    const run = this.chain.then(() => this.handle(e, onIgnored));
    this.chain = run.catch(() => {});
    return run;
  }

  private async handle(e: PairNodeEvent, onIgnored?: (why: string) => void): Promise<void> {
    const from = displayState(this.state);
    const step = pairTransition(this.state, e);
    if (step.ignored) {
      onIgnored?.(step.ignored);
      return;
    }
    const at = Date.now();
    const t0 = performance.now();
    this.state = step.state;
    const hooks: PairTransitionEvent['hooks'] = [];
    let failed: unknown;
    try {
      for (const eff of step.effects) await this.perform(eff, hooks);
      if (step.effects.length > 0) this.state = pairTransition(this.state, { type: 'done' }).state;
    } catch (err) {
      // An effect that failed (the store out of reach, a service that does not start) takes the
      // node out of the pair here: half way through a transition, every later event would wait.
      failed = err;
      await this.leaveAfterFailure();
    }
    const done: PairTransitionEvent = {
      service: this.opts.service,
      node: this.opts.node,
      event: e.type,
      from,
      to: displayState(this.state),
      term: this.state.term,
      hooks,
      at,
      ms: performance.now() - t0,
      ...(failed !== undefined && { error: renderError(failed) }),
    };
    this.last = done;
    this.opts.onTransition?.(done);
    if (failed !== undefined) throw failed;
  }

  // Out of the election and the service stopped here; the lease, if this node held it, runs out
  // and the partner takes over.
  private async leaveAfterFailure(): Promise<void> {
    this.election?.stop();
    this.election = undefined;
    this.opts.host?.holdIntake?.();
    try {
      await this.opts.host?.stopService?.();
    } catch {
      // Failing already: a service that did not start has nothing to stop.
    }
    this.state = { ...this.state, phase: 'down', next: undefined, started: false };
  }

  private async perform(eff: PairEffect, hooks: PairTransitionEvent['hooks']): Promise<void> {
    const host = this.opts.host ?? {};
    switch (eff.type) {
      case 'hook':
        hooks.push(await this.runHook(eff.hook, eff.reason));
        return;
      case 'campaign':
        if (!this.election)
          this.election = await PairElection.start(this.nc, {
            service: this.opts.service,
            node: this.opts.node,
            primary: this.role === 'primary',
            timing: this.opts.timing,
            ...(this.opts.deployGraceMs !== undefined && { deployGraceMs: this.opts.deployGraceMs }),
            bucket: this.opts.bucket,
            replicas: this.opts.replicas,
            // A failed transition is reported by its event (error); nobody awaits an election's.
            onEvent: (ev) => void this.send(fromElection(ev)).catch(() => {}),
          });
        return;
      case 'resign':
        this.election?.stop();
        this.election = undefined;
        return;
      case 'release':
        await this.election?.release(eff.scan, eff.reason);
        return;
      case 'startService':
        await host.startService?.();
        return;
      case 'stopService':
        await host.stopService?.();
        return;
      case 'openIntake': {
        const fence = this.election?.fence();
        if (fence) host.openIntake?.(fence);
        return;
      }
      case 'holdIntake':
        host.holdIntake?.();
        return;
      case 'discard':
        await host.discard?.();
        return;
      case 'flush': {
        const fence = this.election?.fence();
        if (fence) await host.flush?.(fence);
        return;
      }
    }
  }

  private async runHook(hook: Hook, reason: HookReason): Promise<PairTransitionEvent['hooks'][number]> {
    const fn = this.opts.hooks?.[hook];
    const t0 = performance.now();
    if (!fn) return { hook, reason, ms: 0 };
    const ctx: HookContext = {
      service: this.opts.service,
      node: this.opts.node,
      hook,
      role: this.role,
      mode: this.opts.mode,
      term: this.state.term,
      reason,
    };
    const limit = this.opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    try {
      await callWithin(
        () => fn(ctx),
        limit,
        () => new RelupError('TIMEOUT', `hook ${hook} of ${this.opts.service} ran over ${limit} ms`),
      );
      return { hook, reason, ms: performance.now() - t0 };
    } catch (err) {
      // A failed hook is reported, not retried: the transition it belongs to goes on.
      return { hook, reason, ms: performance.now() - t0, error: renderError(err) };
    }
  }
}

function fromElection(e: ElectionEvent): PairNodeEvent {
  switch (e.type) {
    case 'elected':
      return { type: 'elected', term: e.term, scan: e.scan, reason: e.reason };
    case 'suspect':
      return { type: 'suspect' };
    case 'renewed':
      return { type: 'renewed' };
    case 'lost':
      return { type: 'lost' };
  }
}
