import type { RelupError } from '../errors.ts';

/** Decides which sessions a node admits and keeps: the maintenance gate and the super-admin path. */
export interface SessionPolicy {
  /** Admits a connect request or throws; tells whether the session is a super-admin's. */
  admit(payload: Record<string, unknown>): { superAdmin: boolean };
  /** The error that ends a non-super-admin session now, or undefined when it may go on. */
  refusal(): RelupError | undefined;
}
