import type { AnyActorLogic } from 'xstate';
import type { VersionedSnapshot } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';
import { isSubjectToken, SUBJECT_TOKEN_RULE } from '../nats/subjects.ts';
import type { Incarnation } from './snapshot-store.ts';
import type { ComponentRestartModes } from './state-persistence.ts';

/** What a code_change receives: the persisted state, the versions and the relup's `extra`. */
export interface CodeChangeArgs {
  /** The persisted snapshot of the actor (xstate `getPersistedSnapshot` form). */
  snapshot: unknown;
  from: string;
  to: string;
  direction: 'up' | 'down';
  /** `channel` for a channel actor, else the named actor's kind (e.g. `room`). */
  kind: string;
  extra: Record<string, unknown>;
}

/** The migrate function of a swap: the service's codeChange, or the snapshot as it is. */
export function migrator(
  owner: ServiceDefinition,
  req: Omit<CodeChangeArgs, 'snapshot'>,
): ((persisted: VersionedSnapshot) => unknown) | undefined {
  const codeChange = owner.codeChange;
  if (!codeChange) return undefined;
  return (persisted) => codeChange({ ...req, snapshot: persisted.snapshot });
}

/** What a service's own restart hooks receive when its node boots after an earlier run. */
export interface RestartContext {
  node: string;
  service: string;
  /** The restart mode of each of the service's components, from the release's manifest. */
  modes: ComponentRestartModes;
  /** The earlier run of this node id, whose leftovers the hooks deal with. */
  previous: Incarnation;
}

/** A service's own part of a node restart; may be async, bounded by the node's restart hook timeout. */
export type RestartHook = (ctx: RestartContext) => void | Promise<void>;

/** What a redundant service's hook is told: where it runs, why, in which mode and role, and the term. */
export interface PairHookContext {
  service: string;
  node: string;
  hook: 'startup' | 'shutdown' | 'onScan' | 'offScan';
  role: 'primary' | 'backup';
  mode: 'legacy' | 'warm';
  /** The pair's term: it only grows, one active per term. */
  term: number;
  /**
   * Why the transition happens: deploy, restart, failover, takeover, shutdown, undeploy,
   * operator (scan on/off), fenced, recovered, superseded, maintenance (the node steps out of
   * the pair, or back in).
   */
  reason: string;
}

/** The hooks of a redundant service; each runs once per transition, awaited, within its timeout. */
export type RedundancyHooks = Partial<
  Record<PairHookContext['hook'], (ctx: PairHookContext) => void | Promise<void>>
>;

/** A service: versioned xstate logic for its channels and named actors, plus state migration. */
export interface ServiceDefinition {
  name: string;
  version: string;
  /** Logic of one channel actor (one per client session). */
  channel?: AnyActorLogic;
  /** Logic of named actors this service owns (e.g. chat rooms), keyed by kind. */
  actors?: Record<string, AnyActorLogic>;
  /**
   * Turns a connect request into the channel's input; throwing refuses the session.
   * `connect` is the JSON payload the client sent on `<prefix>.svc.<name>.connect`.
   */
  accept?: (connect: Record<string, unknown>) => Record<string, unknown>;
  /**
   * The event types a client may send to a channel; when absent, every event the channel's
   * machine handles except the host's own (`session.closed`).
   */
  clientEvents?: ReadonlySet<string>;
  /** Migrates a persisted snapshot between versions (both directions); returns the new one. */
  codeChange?: (args: CodeChangeArgs) => unknown;
  /** Services this one needs in the same release. */
  requires?: string[];
  /**
   * False when this service's channels cannot be suspended (they must keep handling messages
   * through an upgrade): suspend_channels then reports `not_supported` as a warning and the
   * upgrade goes on without suspending any channel.
   */
  suspendableChannels?: boolean;
  /** Keeps running in maintenance mode. */
  requiredInMaintenance?: boolean;
  /**
   * Removes what the previous run of this node left that would interfere with a clean start
   * (lock files, external registrations). Runs at a restart only, in one node-wide phase before
   * any service starts, after the restart modes removed the state they do not keep.
   */
  cleanUpOnRestart?: RestartHook;
  /**
   * Starts what the service needs per its restart modes, at a restart only: after its channels
   * are restored and before its acceptor admits anyone.
   */
  startUpOnRestart?: RestartHook;
  /** Hooks of a service the release declares `redundant`: startup, shutdown, onScan, offScan. */
  redundancy?: RedundancyHooks;
}

/** Declares a service; checks the definition early so mistakes surface at load, not at first use. */
export function defineService<T extends ServiceDefinition>(def: T): T {
  const problems: string[] = [];
  if (!def || typeof def !== 'object')
    throw new RelupError('BAD_SERVICE_DEFINITION', 'defineService needs an object', {
      problems: ['not an object'],
    });
  if (!isSubjectToken(def.name)) problems.push(`name must be ${SUBJECT_TOKEN_RULE}`);
  if (typeof def.version !== 'string' || def.version.length === 0) problems.push('version must be a string');
  if (!def.channel && !def.actors) problems.push('a service needs channel logic, named actor logic, or both');
  for (const hook of ['codeChange', 'cleanUpOnRestart', 'startUpOnRestart'] as const)
    if (def[hook] !== undefined && typeof def[hook] !== 'function')
      problems.push(`${hook} must be a function`);
  if (
    def.clientEvents !== undefined &&
    (!(def.clientEvents instanceof Set) || [...def.clientEvents].some((t) => typeof t !== 'string'))
  )
    problems.push('clientEvents must be a Set of event types');
  if (problems.length > 0)
    throw new RelupError(
      'BAD_SERVICE_DEFINITION',
      `invalid service ${String(def?.name)}: ${problems.join('; ')}`,
      {
        problems,
      },
    );
  return def;
}
