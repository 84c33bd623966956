import type { RelupError } from '../errors.ts';

/** Decides which sessions a node admits and keeps: the maintenance gate and the super-admin path. */
export interface SessionPolicy {
  /** Admits a connect request or throws; tells whether the session is a super-admin's. */
  admit(payload: Record<string, unknown>): { superAdmin: boolean };
  /**
   * The proof a super-admin session keeps with its record: a MAC of its session id under the
   * token it presented, so it cannot be moved to another session and holds only while that
   * token is configured. Undefined when the payload proves no super-admin.
   */
  proof(payload: Record<string, unknown>, session: string): string | undefined;
  /** True when a stored proof was made for this session by a token configured now. */
  honours(proof: string, session: string): boolean;
  /** The error that ends a non-super-admin session now, or undefined when it may go on. */
  refusal(): RelupError | undefined;
}
