import { TimeoutError } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';

/** The codes a failed JetStream store operation is reported with. */
export type StoreErrorCode = 'STORE_FAILED' | 'SNAPSHOT_STORE_FAILED';

/**
 * A failed store operation as a RelupError: `message: cause`, with `code`. For the release
 * stores (`STORE_FAILED`) a timeout is TIMEOUT and a RelupError passes as it is, so a retry can
 * tell a leader election from a refusal; the state store reports every failure with its own
 * code, since a durable reply depends on that store alone.
 */
export function storeError(message: string, err: unknown, code: StoreErrorCode = 'STORE_FAILED'): RelupError {
  if (err instanceof RelupError && (code === 'STORE_FAILED' || err.code === code)) return err;
  const reported = code === 'STORE_FAILED' && err instanceof TimeoutError ? 'TIMEOUT' : code;
  return new RelupError(reported, `${message}: ${(err as Error)?.message ?? String(err)}`, undefined, {
    cause: err,
  });
}

/** Runs a store operation; its failure is thrown as {@link storeError}. */
export async function guardStore<T>(
  message: string,
  op: () => Promise<T>,
  code: StoreErrorCode = 'STORE_FAILED',
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw storeError(message, err, code);
  }
}
