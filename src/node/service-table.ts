import type { NatsConnection } from '@nats-io/nats-core';
import type { ChildSpec } from '../actors/child-spec.ts';
import type { ChildInfo, Supervisor } from '../actors/supervisor.ts';
import { RelupError } from '../errors.ts';
import type { ServiceDefinition } from '../services/define-service.ts';
import type { ServiceHost } from '../services/service-host.ts';

/** What a service table needs: the root supervisor and how a host is made and started. */
export interface ServiceTableDeps {
  nc: NatsConnection;
  /** The root supervisor: one child per running service. */
  root: Supervisor;
  /** The hosts of the running services; the table is their only writer (others read). */
  hosts: Map<string, ServiceHost>;
  /** Builds the host of a definition. */
  newHost: (def: ServiceDefinition) => ServiceHost;
  /** Starts a fresh host (restart modes: clean up, restore, start or wait). */
  startHost: (host: ServiceHost) => Promise<void>;
}

/**
 * The services of a node and why each one runs or not: running (a host under the root
 * supervisor), held (stopped by maintenance, its definition kept), broken (a dependency error)
 * or disabled (by an operator, until the next release). The only writer of these four.
 */
export class ServiceTable {
  private readonly hosts: Map<string, ServiceHost>;
  private readonly heldDefs = new Map<string, ServiceDefinition>();
  private readonly brokenDefs = new Map<string, ServiceDefinition>();
  private readonly disabledNames = new Set<string>();

  constructor(private readonly deps: ServiceTableDeps) {
    this.hosts = deps.hosts;
  }

  /** The hosts of the running services, by name. */
  get running(): ReadonlyMap<string, ServiceHost> {
    return this.hosts;
  }

  /** The host of a running service, if any. */
  get(name: string): ServiceHost | undefined {
    return this.hosts.get(name);
  }

  /** Whether the service runs here. */
  has(name: string): boolean {
    return this.hosts.has(name);
  }

  /** The running hosts. */
  hostsNow(): ServiceHost[] {
    return [...this.hosts.values()];
  }

  /** Whether the release knows the service here: running, held or broken. */
  knows(name: string): boolean {
    return this.hosts.has(name) || this.heldDefs.has(name) || this.brokenDefs.has(name);
  }

  /** The definition a held service starts with again, if it is held. */
  heldDefinition(name: string): ServiceDefinition | undefined {
    return this.heldDefs.get(name);
  }

  /** The held services' definitions. */
  heldDefinitions(): ServiceDefinition[] {
    return [...this.heldDefs.values()];
  }

  /** Held and broken service names, for status. */
  notRunning(): string[] {
    return [...this.heldDefs.keys(), ...this.brokenDefs.keys()];
  }

  /** Disabled service names, for status. */
  disabledNow(): string[] {
    return [...this.disabledNames];
  }

  /** Whether an operator disabled the service. */
  isDisabled(name: string): boolean {
    return this.disabledNames.has(name);
  }

  /** How many services have a dependency error. */
  brokenCount(): number {
    return this.brokenDefs.size;
  }

  /** Starts a service as a new child of the root supervisor (DUPLICATE_CHILD when it runs). */
  async add(def: ServiceDefinition): Promise<void> {
    if (this.hosts.has(def.name)) throw new RelupError('DUPLICATE_CHILD', `service ${def.name} already runs`);
    await this.deps.root.startChild(this.spec(def));
    // The acceptor's SUB is at the server once the flush returns: callers told "started" can connect.
    await this.deps.nc.flush();
  }

  /** Stops a service gracefully and forgets its host (UNKNOWN_SERVICE when it does not run). */
  async remove(name: string): Promise<void> {
    if (!this.hosts.has(name)) throw new RelupError('UNKNOWN_SERVICE', `service ${name} does not run`);
    await this.deps.root.terminateChild(`service:${name}`);
    await this.deps.root.deleteChild(`service:${name}`);
    this.hosts.delete(name);
  }

  /** Keeps a service stopped with the definition it starts with again (it need not run now). */
  hold(def: ServiceDefinition): void {
    this.heldDefs.set(def.name, def);
  }

  /** Ends the hold of a service; returns the definition it held. */
  release(name: string): ServiceDefinition | undefined {
    const def = this.heldDefs.get(name);
    this.heldDefs.delete(name);
    return def;
  }

  /** Marks a service as having a dependency error: it does not start. */
  markBroken(def: ServiceDefinition): void {
    this.brokenDefs.set(def.name, def);
  }

  /** Disables a service: not held, not broken, stopped if it runs, until the next release. */
  async disable(name: string): Promise<void> {
    this.disabledNames.add(name);
    this.heldDefs.delete(name);
    if (this.hosts.has(name)) await this.remove(name);
    this.brokenDefs.delete(name);
  }

  /** The root supervisor's children (one per service) with their restart counts. */
  supervision(): { name: string; children: ChildInfo[] } {
    return { name: this.deps.root.name, children: this.deps.root.whichChildren() };
  }

  /** Stops every service (root supervisor, reverse start order). */
  stop(): Promise<void> {
    return this.deps.root.stop();
  }

  /**
   * Services are permanent children of the root supervisor, stopped in reverse start order; a
   * restarted service starts a fresh host with the definition current at that time.
   */
  private spec(first: ServiceDefinition): ChildSpec {
    return {
      id: `service:${first.name}`,
      restart: 'permanent',
      shutdown: 30_000,
      start: async () => {
        const def = this.hosts.get(first.name)?.def ?? first;
        const host = this.deps.newHost(def);
        this.hosts.set(def.name, host);
        // The restart modes clean up, restore and start it (or leave it waiting for startWaiting).
        await this.deps.startHost(host);
        return host;
      },
    };
  }
}
