import type { BulkResult } from '../actors/bulk-result.ts';

/** What a code_change step asks of the runtime. */
export interface CodeChangeRequest {
  direction: 'up' | 'down';
  from: string;
  to: string;
  extra: Record<string, unknown>;
}

/**
 * Everything an instruction may do to a running node. Instructions are written against this
 * interface only, so the compiler and executor are testable without a node, and the node is
 * the one place that knows how actors, acceptors and code are wired.
 */
export interface UpgradeRuntime {
  /** Fails (throws a RelupError) when an acceptor of a running service is missing or not subscribed. */
  checkAcceptors(): Promise<void>;
  /** Fails when the channels of the node cannot be found through the registry. */
  checkChannels(): Promise<void>;
  /** Acceptors hold new connect requests in arrival order (none refused). */
  suspendAcceptors(): Promise<void>;
  /** Acceptors admit the held requests in order, then take new ones. */
  resumeAcceptors(): Promise<void>;
  /** Suspends every channel actor concurrently with one shared deadline. */
  suspendChannels(timeoutMs: number): Promise<BulkResult>;
  resumeChannels(): Promise<void>;
  /** Imports and verifies a service's module of a version; switches nothing. */
  loadObjectCode(service: string, version: string): Promise<void>;
  /** Forgets prepared code (undo of loadObjectCode). */
  unloadObjectCode(service: string, version: string): Promise<void>;
  /** Suspends the named actors of a service (channels are suspended by suspendChannels). */
  suspendService(service: string, timeoutMs: number): Promise<BulkResult>;
  resumeService(service: string): Promise<void>;
  /** Switches the service's code pointer to a prepared version (new actors use it). */
  switchCode(service: string, version: string): Promise<void>;
  /** Migrates every live actor and channel of the service into the loaded code, all or none. */
  codeChange(service: string, req: CodeChangeRequest): Promise<void>;
  /** Runs the migration on copies of every live snapshot; throws the first failure, changes nothing. */
  preflightCodeChange(service: string, req: CodeChangeRequest): Promise<void>;
  /**
   * Hands a redundant service over to its partner when this node is its active (a forced
   * failover); false when there is nothing to hand over here (not its active, or not redundant).
   */
  switchOver(service: string): Promise<boolean>;
  startService(service: string, version: string): Promise<void>;
  stopService(service: string): Promise<void>;
  /** Runs a migration script of the target release (path relative to the release folder). */
  apply(module: string, args: Record<string, unknown>, direction: 'up' | 'down'): Promise<void>;
  /**
   * Waits, at the point of no return, until every node of a cluster-wide upgrade is ready to
   * pass it (a barrier); throws to abort. Resolves at once for a single-node upgrade.
   */
  barrier(): Promise<void>;
  /** Pushes a notice to every client session; returns how many got it. */
  notifyClients(message: string): Promise<number>;
  /** Waits a grace period, pushing the time left to every client; the signal cuts it short. */
  grace(ms: number, message: string, signal: AbortSignal): Promise<void>;
  /** Disconnects every client session but super-admins'; returns how many. */
  disconnectClients(reason: string): Promise<number>;
  /** Maintenance mode on or off (reason `manual`). */
  maintenance(on: boolean, message: string, until: string | undefined): Promise<void>;
  /** The version of a service running now, or undefined when it does not run. */
  serviceVersion(service: string): string | undefined;
  log(message: string, fields?: Record<string, unknown>): void;
}
