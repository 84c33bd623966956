import { RelupError } from '../errors.ts';

/** How long {@link retryStore} keeps trying by default: longer than a JetStream leader election. */
export const STORE_RETRY_MS = 30_000;

// Failures a store write recovers from once the cluster has elected leaders again.
const TRANSIENT = new Set(['STORE_FAILED', 'TIMEOUT']);

/**
 * Runs an idempotent store operation, retrying it with a growing pause (100 ms to 2 s) while it
 * fails with STORE_FAILED or TIMEOUT, for at most `forMs`; then throws the last failure. A write
 * that records an outcome already reached (an upgrade's end, the release a node runs) must not
 * be lost to a few seconds of a server restarting or a leader being elected, nor may a boot
 * fail on a read that a slow JetStream answered late.
 */
export async function retryStore<T>(op: () => Promise<T>, forMs = STORE_RETRY_MS): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let pause = 100; ; pause = Math.min(2_000, pause * 2)) {
    try {
      return await op();
    } catch (err) {
      const code = err instanceof RelupError ? err.code : 'STORE_FAILED';
      if (!TRANSIENT.has(code) || Date.now() + pause > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
