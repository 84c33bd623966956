/**
 * The one error catalog of relup. Every error the runtime raises or sends over NATS is a
 * RelupError with a stable code from this table; the README lists the same table.
 */
export const ErrorCodes = {
  // input and configuration
  BAD_OPTIONS: 'an option is missing or out of its range',
  NOT_SUBJECT_SAFE:
    'an id or name that becomes part of a NATS subject or key is not a subject-safe token ([A-Za-z0-9_-]+)',
  BAD_VERSION: 'a release version is not a semver version',
  BAD_KEY: 'an nkey seed or public key is malformed or of the wrong kind',
  DUPLICATE_NAME: 'a command, job or modification with that name is registered already',
  UNKNOWN_JOB: 'no scheduled job with that name',
  BAD_SERVICE_DEFINITION: 'defineService got an invalid service; details.problems lists every problem',
  BAD_INSTRUCTION: 'an instruction definition is invalid; details.problems lists every problem',
  FILE_UNREADABLE: 'a file named on the command line cannot be read',
  LISTEN_FAILED: 'the page server cannot listen on its address',
  BAD_CHILD_SPEC: 'a child specification is invalid',
  BAD_MESSAGE: 'a message is not valid JSON or lacks a required field',
  BAD_COMMAND: 'an operator command is malformed or its arguments are invalid; details.problems lists them',
  UNKNOWN_COMMAND: 'no operator command with that name',
  UNSIGNED_COMMAND: 'the node requires signed operator commands and this one carries no signature',
  BAD_SIGNATURE: 'the command signature is invalid or its key is not a trusted operator key',
  COMMAND_EXPIRED: 'the signed command was issued too long ago or too far in the future',
  REPLAYED_COMMAND: 'a signed command with that nonce was already received',
  FORBIDDEN:
    'the sender may not reach that subject, or read the answers on it (only nodes reach named actors)',
  // NATS
  NATS_UNAVAILABLE: 'the NATS server cannot be reached',
  NATS_SERVER_MISSING: 'nats-server is not installed',
  TIMEOUT: 'an operation did not finish in time',
  STOP_TIMEOUT: 'a graceful stop did not finish in time; the node exited anyway, naming what was unfinished',
  NO_RESPONDERS: 'nobody answers on that subject',
  UNKNOWN_NODE: 'no node with that id answers on its control subject',
  // actors and supervision
  ACTOR_STOPPED: 'the actor is stopped',
  ACTOR_FAILED: 'the actor failed while handling a message',
  SWAP_FAILED: 'the logic swap failed; the actor keeps its old logic and state',
  SUPERVISOR_SHUTDOWN: 'the supervisor gave up: restart intensity reached',
  DUPLICATE_CHILD: 'a child with that id already exists',
  UNKNOWN_CHILD: 'no child with that id',
  CHILD_RUNNING: 'the child is running; terminate it first',
  CHILD_START_FAILED: 'a child failed to start',
  UNKNOWN_ACTOR: 'no live actor has that name',
  // services and sessions
  UNKNOWN_SERVICE: 'no service with that name',
  UNKNOWN_SESSION: 'no session with that id',
  SESSION_REFUSED: 'the service refused the session',
  MAINTENANCE: 'the node is in maintenance mode: only super-admins may connect',
  MAINTENANCE_CANCELLED: 'a maintenance was called off (maintenance off) while its grace counted down',
  // releases
  BAD_RELEASE: 'a release manifest is invalid',
  UNKNOWN_RELEASE: 'no release with that version',
  NO_RELUP: 'no relup file joins the running release and the target, in either direction',
  ALREADY_RUNNING: 'the release asked for is the one running already',
  UNSIGNED_RELEASE:
    'trusted release keys are configured and the release manifest is not signed by one of them',
  HASH_MISMATCH: 'a module file does not match its sha256 in the manifest',
  MODULE_OUTSIDE_RELEASE: 'a module path leaves the release folder',
  LOAD_FAILED: 'a release module failed to load',
  ENGINE_MISMATCH: 'the release needs another engine version',
  NOT_ACTIVE:
    'the command needs the active of a redundant pair and this node is not it (standby, fenced or down)',
  FENCED:
    'a redundant service wrote or sent in a term that is over (a newer active exists) or after it may have lost its lease',
  CONFLICT: 'the value changed since it was read (compare-and-set failed)',
  STORE_FAILED: 'the release store (JetStream KV) could not be read or written',
  SNAPSHOT_STORE_FAILED:
    'the state store (JetStream KV relup_snapshots, stream relup_events) could not be read or written',
  RESTART_HOOK_FAILED:
    "a service's cleanUpOnRestart or startUpOnRestart threw or did not finish in time; the service does not start",
  STATE_NOT_MIGRATED:
    'stored state was written by another version and cannot be brought to the running one; it is kept untouched',
  BAD_RELUP: 'a relup file is invalid; details.problems lists every problem with its path',
  PLAN_CYCLE: 'the dependencies of a relup plan form a cycle',
  PLAN_MISSING_DEPENDENCY: 'a step of a relup plan requires a step the plan does not have',
  PLAN_INVALID: 'a compiled relup plan breaks a rule (point of no return, effects, suspend/resume pairs)',
  UNCOVERED_CHANGE: 'a service changed between the releases but the relup does not upgrade it',
  RELEASE_MISMATCH: 'the code running differs from the release it claims to be (hash check)',
  CHECK_FAILED: 'a check before the point of no return failed (acceptors, channels)',
  PREFLIGHT_FAILED: 'a code_change failed on a copy of a live snapshot, before the point of no return',
  SUSPEND_TIMEOUT: 'some actors did not suspend before the deadline',
  SUSPEND_NOT_SUPPORTED: 'some actors cannot be suspended',
  UNKNOWN_INSTRUCTION: 'a plan names an instruction that does not exist; nothing ran',
  STEP_FAILED: 'a step of an upgrade failed with an error that carries no code of its own',
  ROLLBACK_FAILED: 'undoing a failed upgrade failed too; the node needs maintenance',
  BUSY: 'another upgrade is running on the node',
  NOTHING_TO_RETRY: 'no failed migration script waits for retry or skip',
  BARRIER_ABORTED: 'the cluster-wide upgrade was aborted at the barrier before the point of no return',
  BARRIER_TIMEOUT: 'the barrier of a cluster-wide upgrade did not open in time',
  UPGRADE_INCOMPLETE: 'a cluster-wide upgrade left some nodes on their old release',
} as const;

/** A stable error code, one of the keys of {@link ErrorCodes}. */
export type ErrorCode = keyof typeof ErrorCodes;

/** The wire form of an error in a reply: what any NATS client sees. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The base class of every error relup raises: a stable code, a message and optional details. */
export class RelupError extends Error {
  override readonly name = 'RelupError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown, options?: ErrorOptions) {
    super(message ?? ErrorCodes[code], options);
    this.code = code;
    this.details = details;
  }

  /** The wire form, for replies on NATS. */
  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Wraps anything thrown into a RelupError, keeping the original as `cause`. */
export function toRelupError(err: unknown, fallback: ErrorCode = 'ACTOR_FAILED'): RelupError {
  if (err instanceof RelupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RelupError(fallback, message, undefined, { cause: err });
}

/** Renders an error for logs and the CLI: `CODE: message`. The one place errors become text. */
export function renderError(err: unknown): string {
  const e = toRelupError(err);
  return `${e.code}: ${e.message}`;
}
