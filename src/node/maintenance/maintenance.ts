import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Actor } from 'xstate';
import { RelupError, renderError } from '../../errors.ts';
import type { ManualMaintenance } from '../../release/release-store.ts';
import type { ServiceDefinition } from '../../services/define-service.ts';
import type { lifecycleMachine, MaintenanceEntry, MaintenanceReason } from '../lifecycle.ts';
import type { LeaveResult, MaintenanceRequest, MaintenanceResult } from '../node-types.ts';
import type { ServiceTable } from '../service-table.ts';
import { countdown, disconnectClients, type HostList, notifyClients } from './clients.ts';
import type { HeldAcceptors } from './held-acceptors.ts';

/** The node's side of its redundant pairs, which maintenance steps out of and back into. */
export interface PairMembership {
  /** Steps out of the pair of every redundant service `keeps` does not keep; resolves with those services. */
  withdraw(keeps: (def: ServiceDefinition) => boolean): Promise<string[]>;
  /** Whether a service is redundant (runs only through its pair). */
  guards(service: string): boolean;
  /** Steps back into every pair stepped out of; a pair that failed to stays out, for the next try. */
  rejoin(): Promise<{ rejoined: string[]; failed: { service: string; error: unknown }[] }>;
}

/** What maintenance works on. */
export interface MaintenanceDeps {
  nc: NatsConnection;
  log: Logger;
  lifecycle: Actor<typeof lifecycleMachine>;
  table: ServiceTable;
  heldAcceptors: HeldAcceptors;
  pairs: PairMembership;
  /** The running release's version, for messages. */
  version: () => string;
  /** Keeps a manual maintenance (undefined: forgets it), so a restart does not end it. */
  keepManual: (entry: ManualMaintenance | undefined) => Promise<void>;
}

const DEFAULT_MESSAGE = 'The service is going into maintenance.';

/**
 * Maintenance mode of a node, the only writer of its state: the reasons (in the lifecycle
 * machine), the services it holds stopped (in the service table), the acceptors that refuse
 * connects to them, and what operators allow besides. The session policy reads the reasons.
 */
export class Maintenance {
  /** Features (`job:<name>`, `service:<name>`) an operator allows in maintenance besides those declared so. */
  private readonly allowed = new Set<string>();
  /** A maintenance being entered, counting its grace down: `leave` calls it off. */
  private pending:
    | { message: string; endsAt: string; abort: AbortController; affected: HostList }
    | undefined;

  /** Entering (after its grace) and leaving, one at a time: the last command wins. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MaintenanceDeps) {}

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work);
    this.serial = run.catch(() => {});
    return run;
  }

  /** The reasons that hold now, oldest first. */
  reasons(): MaintenanceEntry[] {
    return this.deps.lifecycle.getSnapshot().context.maintenance;
  }

  /** In maintenance mode, for any reason. */
  isOn(): boolean {
    return String(this.deps.lifecycle.getSnapshot().value) === 'maintenance';
  }

  /** A maintenance whose grace is counting down, with when it would begin. */
  pendingEntry(): { message: string; endsAt: string } | undefined {
    return this.pending && { message: this.pending.message, endsAt: this.pending.endsAt };
  }

  /** Whether an operator allowed a feature in maintenance. */
  allows(feature: string): boolean {
    return this.allowed.has(feature);
  }

  /** Allows a feature (`job:<name>`, `service:<name>`) in maintenance besides those declared so. */
  allow(feature: string): void {
    this.allowed.add(feature);
  }

  /** Adds a reason without telling or disconnecting anyone: sessions meet the gate at their next message. */
  addReason(entry: MaintenanceEntry): void {
    this.deps.lifecycle.send({ type: 'MAINTENANCE_ON', entry });
    for (const host of this.deps.table.hostsNow()) host.acceptor.takeForwarded(false);
  }

  /** Holds a service stopped that never started (boot): its connects are refused with the reason. */
  holdAtBoot(def: ServiceDefinition): void {
    this.deps.table.hold(def);
    this.deps.heldAcceptors.hold(def.name);
  }

  /** Refuses connects to a service that does not run here (a dependency error, a pair stepped out of at boot). */
  refuseConnects(service: string): void {
    this.deps.heldAcceptors.hold(service);
  }

  /** Pushes a notice to every session of every service; returns how many sessions got it. */
  notify(message: unknown): number {
    return notifyClients(() => this.deps.table.hostsNow(), message);
  }

  /** Waits a grace period with a countdown pushed to every client. */
  countdown(graceMs: number, message: string, tickMs?: number, signal?: AbortSignal): Promise<void> {
    return countdown(() => this.deps.table.hostsNow(), graceMs, message, tickMs, signal);
  }

  /** Disconnects every session except super-admins' (by default) or the listed ones. */
  disconnect(opts: Parameters<typeof disconnectClients>[1] = {}): Promise<number> {
    return disconnectClients(() => this.deps.table.hostsNow(), opts);
  }

  /**
   * Enters maintenance mode: tells every client, counts the grace period down, tells them again,
   * hands redundant services over to their partners, disconnects everyone but super-admins,
   * stops the services not required in maintenance, and from then on refuses new sessions
   * except super-admins'.
   */
  async enter(req: MaintenanceRequest = {}): Promise<MaintenanceResult> {
    const { table, heldAcceptors, nc, log, lifecycle } = this.deps;
    const message = req.message ?? DEFAULT_MESSAGE;
    const graceMs = req.graceMs ?? 0;
    if (!(graceMs >= 0)) throw new RelupError('BAD_OPTIONS', 'graceMs must be a number ≥ 0');
    const keeps = (def: ServiceDefinition) =>
      def.requiredInMaintenance === true || this.allowed.has(`service:${def.name}`);
    // The clients maintenance reaches: not those of a redundant service that goes to its
    // partner, whose sessions go on there (a notice would tell them they are disconnected).
    const affected = () =>
      [...table.hostsNow()].filter((h) => keeps(h.def) || !this.deps.pairs.guards(h.name));
    const notified = notifyClients(affected, {
      type: 'maintenance',
      phase: 'notice',
      message,
      graceMs,
      until: req.until,
    });
    const abort = new AbortController();
    const pending = { message, endsAt: new Date(Date.now() + graceMs).toISOString(), abort, affected };
    this.pending = pending;
    try {
      await countdown(affected, graceMs, message, req.tickMs, abort.signal);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
      throw new RelupError(
        'MAINTENANCE_CANCELLED',
        `maintenance "${message}" was called off during its grace`,
      );
    } finally {
      if (this.pending === pending) this.pending = undefined;
    }
    // After the grace, one at a time with leaving: an `off` sent meanwhile waits for this.
    return this.exclusive(async () => {
      notifyClients(affected, { type: 'maintenance', phase: 'now', message, until: req.until });
      // Redundant services go to their partners before the maintenance reason holds: until then
      // their sessions are served as usual and then parked for the partner, never refused and closed.
      const stopped = await this.deps.pairs.withdraw(keeps).catch(async (err: unknown) => {
        await this.rejoin();
        throw err;
      });
      const since = new Date().toISOString();
      this.addReason({
        reason: req.reason ?? 'manual',
        message,
        since,
        ...(req.until && { until: req.until }),
        ...(req.details !== undefined && { details: req.details }),
      });
      // An operator's maintenance outlives a restart; automatic reasons are found again at boot.
      if ((req.reason ?? 'manual') === 'manual')
        await this.deps.keepManual({ message, since, ...(req.until && { until: req.until }) });
      // Held once the reason holds: a connect reaching this node is passed on to the partner.
      for (const name of stopped) heldAcceptors.hold(name);
      const disconnected = await this.disconnect({
        reason: `maintenance: ${message}`,
        keepSuperAdmins: true,
      });
      for (const host of table.hostsNow()) {
        // A redundant service runs here only through its pair, which the table must never restart.
        if (keeps(host.def) || this.deps.pairs.guards(host.name)) continue;
        table.hold(host.def);
        await table.remove(host.name);
        heldAcceptors.hold(host.name);
        stopped.push(host.name);
      }
      // The held acceptors' SUBs are at the server before we report: a connect now hears the reason.
      await nc.flush();
      log.warn({ reason: req.reason ?? 'manual', message, disconnected, stopped }, 'maintenance mode on');
      return { state: String(lifecycle.getSnapshot().value), notified, disconnected, stopped };
    });
  }

  /**
   * Clears one maintenance reason; when none is left the node is ready again, the services
   * maintenance stopped are started (except disabled or broken ones) and the pairs it stepped
   * out of are joined again.
   */
  async leave(reason: MaintenanceReason = 'manual'): Promise<LeaveResult> {
    const { table, heldAcceptors, log, lifecycle } = this.deps;
    // An operator's `off` during the grace of an `on` calls it off: clients hear so, nobody is disconnected.
    if (reason === 'manual' && this.pending) {
      const { message, abort, affected } = this.pending;
      this.pending = undefined;
      abort.abort();
      notifyClients(affected, { type: 'maintenance', phase: 'cancelled', message });
      log.info({ message }, 'pending maintenance called off');
    }
    return this.exclusive(async () => {
      const wasManual = this.reasons().some((r) => r.reason === 'manual');
      lifecycle.send({ type: 'MAINTENANCE_OFF', reason });
      if (reason === 'manual' && wasManual) await this.deps.keepManual(undefined);
      const started: string[] = [];
      if (!this.isOn()) {
        for (const host of table.hostsNow()) host.acceptor.takeForwarded(true);
        for (const def of table.heldDefinitions()) {
          if (table.isDisabled(def.name)) continue;
          table.release(def.name);
          heldAcceptors.release(def.name);
          await table.add(def);
          started.push(def.name);
        }
        started.push(...(await this.rejoin()));
        log.info({ started }, 'maintenance mode off');
      }
      return { state: String(lifecycle.getSnapshot().value), started };
    });
  }

  // Back into the pairs stepped out of; a pair that cannot rejoin yet keeps its held acceptor,
  // which passes connects on to the partner.
  private async rejoin(): Promise<string[]> {
    const { rejoined, failed } = await this.deps.pairs.rejoin();
    for (const name of rejoined) this.deps.heldAcceptors.release(name);
    for (const f of failed)
      this.deps.log.warn(
        { service: f.service, error: renderError(f.error) },
        'maintenance: pair not rejoined',
      );
    return rejoined;
  }

  /**
   * Disables a service (an operator's answer to a dependency error): it stays stopped, and when
   * no dependency error is left the node leaves that maintenance reason.
   */
  async disable(name: string): Promise<{ state: string }> {
    const { table, heldAcceptors, lifecycle } = this.deps;
    if (!table.knows(name))
      throw new RelupError(
        'UNKNOWN_SERVICE',
        `service ${name} is not part of release ${this.deps.version()}`,
      );
    heldAcceptors.release(name);
    await table.disable(name);
    if (table.brokenCount() === 0) await this.leave('dependency_error');
    return { state: String(lifecycle.getSnapshot().value) };
  }

  /** The node stops: no acceptor refuses connects any more. */
  stop(): void {
    this.deps.heldAcceptors.releaseAll();
  }
}
