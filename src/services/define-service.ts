import type { AnyActorLogic } from 'xstate';
import type { VersionedSnapshot } from '../actors/actor-host.ts';
import { RelupError } from '../errors.ts';

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
}

/** Declares a service; checks the definition early so mistakes surface at load, not at first use. */
export function defineService<T extends ServiceDefinition>(def: T): T {
  const problems: string[] = [];
  if (!def || typeof def !== 'object') throw new RelupError('BAD_OPTIONS', 'defineService needs an object');
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(def.name))
    problems.push('name must be a subject-safe token ([A-Za-z0-9_-]+)');
  if (typeof def.version !== 'string' || def.version.length === 0) problems.push('version must be a string');
  if (!def.channel && !def.actors) problems.push('a service needs channel logic, named actor logic, or both');
  if (def.codeChange !== undefined && typeof def.codeChange !== 'function')
    problems.push('codeChange must be a function');
  if (
    def.clientEvents !== undefined &&
    (!(def.clientEvents instanceof Set) || [...def.clientEvents].some((t) => typeof t !== 'string'))
  )
    problems.push('clientEvents must be a Set of event types');
  if (problems.length > 0)
    throw new RelupError('BAD_OPTIONS', `invalid service ${String(def?.name)}: ${problems.join('; ')}`, {
      problems,
    });
  return def;
}
