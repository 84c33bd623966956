import semver from 'semver';
import { z } from 'zod';
import { type ErrorBody, RelupError } from '../errors.ts';
import { isSubjectToken, SUBJECT_TOKEN_RULE } from '../nats/subjects.ts';
import { renderProblems, zodProblems } from '../problems.ts';

/** A semver version, as every command that names a release takes it. */
export const versionArg = z
  .string()
  .refine((v) => semver.valid(v) !== null, { error: 'must be a semver version' });

/** A token safe inside one subject level, for ids that end up in subjects and KV keys. */
export const tokenArg = z
  .string()
  .max(64)
  .refine(isSubjectToken, { error: `must be ${SUBJECT_TOKEN_RULE}` });

/** The longest command id; a longer one is refused and never echoed back. */
export const MAX_COMMAND_ID = 128;

/** The envelope of every operator command: `{ id, cmd, args, auth? }` (args default `{}`). */
export const commandEnvelope = z.object({
  id: z.string().min(1).max(MAX_COMMAND_ID),
  cmd: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).default({}),
  auth: z.unknown().optional(),
});

/** A parsed command envelope. */
export type CommandEnvelope = z.output<typeof commandEnvelope>;

/** The signature block of a signed command (see docs/protocol.md). */
export const authSchema = z.strictObject({
  /** The public nkey of the operator (U…, O… or A…). */
  key: z.string().min(1),
  /** Issued at, ms since the epoch. */
  iat: z.number().int().nonnegative(),
  nonce: z.string().min(8).max(128),
  /** base64url of the ed25519 signature over the canonical signed form. */
  sig: z.string().min(1),
});

/** The signature block of a signed command. */
export type CommandAuth = z.output<typeof authSchema>;

/** No arguments (`status`, `releases`). */
export const noArgs = z.strictObject({});

/** `check { to }`: run the checks of the transition to `to`, change nothing. */
export const checkArgs = z.strictObject({ to: versionArg });

/** The barrier of a cluster-wide upgrade: wait at the point of no return for `go`. */
export const barrierArg = z.strictObject({
  id: tokenArg,
  timeoutMs: z.number().int().positive().max(3_600_000).default(30_000),
});

/** `upgrade { to, id?, barrier? }` and `downgrade { to, id?, barrier? }`. */
export const upgradeArgs = z.strictObject({
  to: versionArg,
  /** The upgrade id (journal key, tag of every event); default a fresh nuid. */
  id: tokenArg.optional(),
  barrier: barrierArg.optional(),
});

/** `make_permanent { version, expectedRevision? }`. */
export const makePermanentArgs = z.strictObject({
  version: versionArg,
  /** Compare-and-set against this revision of the permanent release (0: none yet). */
  expectedRevision: z.number().int().nonnegative().optional(),
});

/** A successful reply. */
export interface CommandOk {
  id: string;
  ok: true;
  result: unknown;
}

/** A refused or failed command; `id` is null when the request had no usable id. */
export interface CommandFailed {
  id: string | null;
  ok: false;
  error: ErrorBody;
}

/** The reply to every command. */
export type CommandReply = CommandOk | CommandFailed;

/** Turns zod issues into BAD_COMMAND, each problem with its path from the request's root (`args.to`). */
export function badCommand(error: z.ZodError, root: string[] = []): RelupError {
  const problems = zodProblems(error, root);
  return new RelupError('BAD_COMMAND', renderProblems(problems), { problems });
}

/** `maintenance { on, message?, grace?, until? }`: grace is a duration (`30s`) or ms. */
export const maintenanceArgs = z.strictObject({
  on: z.boolean(),
  message: z.string().min(1).max(1000).optional(),
  grace: z.union([z.string(), z.number().int().nonnegative()]).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

/** `notify { message }`. */
export const notifyArgs = z.strictObject({ message: z.string().min(1).max(1000) });

/** `disconnect_clients { except?, reason? }`: session ids to keep; super-admins are always kept. */
export const disconnectArgs = z.strictObject({
  except: z.array(z.string().min(1)).optional(),
  reason: z.string().min(1).max(1000).optional(),
});

/** `disable_service { service }` / `start_waiting { service }`. */
export const serviceArgs = z.strictObject({ service: tokenArg });

/** `upgrades { limit? }`: how many of the newest journal reports to return (default 20, at most 50). */
export const upgradesArgs = z.strictObject({ limit: z.number().int().min(1).max(50).optional() });
