import { RelupError } from '../errors.ts';
import { decode } from '../nats/codec.ts';
import type { CommandAuth } from './command-schema.ts';
import { type CommandVerifier, signCommand } from './signature.ts';

/** A barrier's verdict as the coordinator publishes it on `go` or `abort`. */
export type BarrierVerdict = { decision: 'go' } | { decision: 'abort'; reason: string };

/** A verdict with the operator's signature, when commands are signed. */
export type SignedVerdict = BarrierVerdict & { auth?: CommandAuth };

/** What a verdict's signature binds to: one barrier, on every node that waits at it. */
function scopeOf(barrier: string): string {
  return `barrier.${barrier}`;
}

/** The signed form of a verdict: `{ id: barrier, cmd: decision, args: { reason? } }`. */
function asCommand(barrier: string, verdict: BarrierVerdict) {
  return {
    id: barrier,
    cmd: verdict.decision,
    args: verdict.decision === 'abort' ? { reason: verdict.reason } : {},
  };
}

/** Signs a verdict with the operator seed, as commands are, bound to the barrier. */
export function signVerdict(
  barrier: string,
  verdict: BarrierVerdict,
  seed: string | Uint8Array,
): SignedVerdict {
  return { ...verdict, auth: signCommand(asCommand(barrier, verdict), scopeOf(barrier), seed).auth };
}

/**
 * Checks a `go` or `abort` a node received at a barrier when it requires signed commands:
 * throws UNSIGNED_COMMAND, BAD_SIGNATURE, COMMAND_EXPIRED or REPLAYED_COMMAND, so a message
 * anyone could publish neither releases nor aborts a signed upgrade.
 */
export function verifyVerdict(
  verifier: CommandVerifier,
  barrier: string,
  decision: BarrierVerdict['decision'],
  data: Uint8Array,
): void {
  let body: { reason?: unknown; auth?: unknown };
  try {
    body = decode(data);
  } catch {
    throw new RelupError(
      'UNSIGNED_COMMAND',
      `the ${decision} of barrier ${barrier} is not a signed JSON verdict`,
    );
  }
  const reason = typeof body?.reason === 'string' ? body.reason : '';
  const verdict: BarrierVerdict = decision === 'go' ? { decision } : { decision, reason };
  verifier.verify({ ...asCommand(barrier, verdict), auth: body?.auth }, scopeOf(barrier));
}
