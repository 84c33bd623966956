import { randomBytes } from 'node:crypto';
import { fromPublic, type KeyPair } from '@nats-io/nkeys';
import { RelupError } from '../errors.ts';
import { seedKeyPair } from '../nats/nkey-seed.ts';
import { renderProblems, zodProblems } from '../problems.ts';
import { canonicalJson } from '../release/canonical-json.ts';
import { authSchema, type CommandAuth } from './command-schema.ts';
import { ReplayGuard } from './replay-guard.ts';

/** A command as a client builds it, before signing. */
export interface UnsignedCommand {
  id: string;
  cmd: string;
  args?: Record<string, unknown>;
}

/** A command with its signature block. */
export type SignedCommand<C extends UnsignedCommand = UnsignedCommand> = C & {
  args: Record<string, unknown>;
  auth: CommandAuth;
};

/** How old a signed command may be, default 60 s; and how far in the future, default 5 s. */
export interface SignatureWindow {
  maxAgeMs?: number;
  clockSkewMs?: number;
}

/** Trusted public nkeys may be users (U…), operators (O…) or accounts (A…). */
const TRUSTED_PREFIXES = ['U', 'O', 'A'];

const encoder = new TextEncoder();

/**
 * The bytes a signature covers: the canonical JSON of `{ node, id, cmd, args, iat, nonce }`.
 * `node` binds the command to one node: the same signed command sent to another node fails.
 */
export function signedBytes(
  node: string,
  command: { id: string; cmd: string; args: Record<string, unknown> },
  iat: number,
  nonce: string,
): Uint8Array {
  return encoder.encode(
    canonicalJson({ node, id: command.id, cmd: command.cmd, args: command.args, iat, nonce }),
  );
}

/**
 * Signs a command for one node with an nkey seed (`SU…`, as in a seed file or an env var;
 * surrounding whitespace is ignored). `iat` and `nonce` default to now and 16 random bytes.
 */
export function signCommand<C extends UnsignedCommand>(
  command: C,
  node: string,
  seed: string | Uint8Array,
  opts: { iat?: number; nonce?: string } = {},
): SignedCommand<C> {
  const kp = seedKeyPair(seed);
  try {
    const args = command.args ?? {};
    const iat = opts.iat ?? Date.now();
    const nonce = opts.nonce ?? randomBytes(16).toString('base64url');
    const sig = Buffer.from(kp.sign(signedBytes(node, { ...command, args }, iat, nonce))).toString(
      'base64url',
    );
    return { ...command, args, auth: { key: kp.getPublicKey(), iat, nonce, sig } };
  } finally {
    kp.clear();
  }
}

/** Validates trusted operator public keys: BAD_OPTIONS for no list, BAD_KEY naming a bad key. */
export function parseOperatorKeys(keys: unknown): Map<string, KeyPair> {
  if (!Array.isArray(keys) || keys.length === 0)
    throw new RelupError(
      'BAD_OPTIONS',
      'operatorKeys must be a non-empty list of public nkeys (omit it to accept unsigned commands)',
    );
  const out = new Map<string, KeyPair>();
  for (const key of keys) {
    const text = typeof key === 'string' ? key.trim() : key;
    if (typeof text !== 'string' || !TRUSTED_PREFIXES.includes(text[0] ?? ''))
      throw new RelupError(
        'BAD_KEY',
        `operator key ${JSON.stringify(key)} is not a public user, operator or account nkey (U…, O…, A…)`,
        { key },
      );
    try {
      out.set(text, fromPublic(text));
    } catch (err) {
      throw new RelupError('BAD_KEY', `operator key ${text} is invalid: ${(err as Error).message}`, {
        key: text,
      });
    }
  }
  return out;
}

/** Checks signed commands for one node: trusted key, valid signature, fresh, not replayed. */
export class CommandVerifier {
  private readonly keys: Map<string, KeyPair>;
  private readonly maxAgeMs: number;
  private readonly clockSkewMs: number;
  private readonly replays = new ReplayGuard();
  /** Nonces are remembered in memory only: anything issued before this moment may be a replay. */
  private readonly bootedAt: number;

  constructor(
    private readonly node: string,
    operatorKeys: unknown,
    window: SignatureWindow = {},
    private readonly now: () => number = Date.now,
  ) {
    this.keys = parseOperatorKeys(operatorKeys);
    this.maxAgeMs = positive('maxAgeMs', window.maxAgeMs ?? 60_000);
    this.clockSkewMs = positive('clockSkewMs', window.clockSkewMs ?? 5_000);
    this.bootedAt = now();
  }

  /**
   * Throws UNSIGNED_COMMAND, BAD_SIGNATURE, COMMAND_EXPIRED or REPLAYED_COMMAND; returns the
   * operator key when the command may run. The nonce is spent only by a command that passes
   * every other check, so a forged copy cannot burn the nonce of a genuine command. A command
   * issued before the verifier was made (the node's start) is refused: its nonce may have been
   * spent in a previous run, whose memory is gone. `scope` is what the signature binds to,
   * default this node (a barrier's verdict binds to the barrier, see signBarrierVerdict).
   */
  verify(
    command: { id: string; cmd: string; args: Record<string, unknown>; auth?: unknown },
    scope = this.node,
  ): string {
    if (command.auth === undefined || command.auth === null)
      throw new RelupError(
        'UNSIGNED_COMMAND',
        `this node accepts only signed commands; ${command.cmd} is unsigned`,
      );
    const parsed = authSchema.safeParse(command.auth);
    if (!parsed.success)
      throw new RelupError(
        'BAD_SIGNATURE',
        `malformed auth: ${renderProblems(zodProblems(parsed.error, ['auth']))}`,
      );
    const auth = parsed.data;
    const kp = this.keys.get(auth.key);
    if (!kp)
      throw new RelupError('BAD_SIGNATURE', `key ${auth.key} is not a trusted operator key`, {
        key: auth.key,
      });
    const sig = Buffer.from(auth.sig, 'base64url');
    const data = signedBytes(scope, command, auth.iat, auth.nonce);
    if (sig.length !== 64 || !kp.verify(data, sig))
      throw new RelupError(
        'BAD_SIGNATURE',
        `the signature of command ${command.id} does not verify with key ${auth.key}`,
        {
          key: auth.key,
        },
      );
    const now = this.now();
    if (now - auth.iat > this.maxAgeMs || auth.iat - now > this.clockSkewMs)
      throw new RelupError(
        'COMMAND_EXPIRED',
        `command ${command.id} was issued at ${new Date(auth.iat).toISOString()}; accepted: the last ${this.maxAgeMs} ms, up to ${this.clockSkewMs} ms ahead`,
        { iat: auth.iat, now, maxAgeMs: this.maxAgeMs, clockSkewMs: this.clockSkewMs },
      );
    if (auth.iat < this.bootedAt)
      throw new RelupError(
        'COMMAND_EXPIRED',
        `command ${command.id} was issued at ${new Date(auth.iat).toISOString()}, before this node started at ${new Date(this.bootedAt).toISOString()}: sign it again`,
        { iat: auth.iat, bootedAt: this.bootedAt },
      );
    // Past iat + maxAge the command is refused as expired, so the nonce need not be kept longer.
    if (!this.replays.admit(`${auth.key} ${auth.nonce}`, auth.iat + this.maxAgeMs, now))
      throw new RelupError('REPLAYED_COMMAND', `nonce ${auth.nonce} was already used`, { nonce: auth.nonce });
    return auth.key;
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0)
    throw new RelupError('BAD_OPTIONS', `${name} must be a positive number of ms`, { [name]: v });
  return v;
}
