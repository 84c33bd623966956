import { type Child, type ExitReason, exitOf } from './child.ts';
import type { ShutdownPolicy } from './child-spec.ts';

/** How a supervisor-driven stop ended: the exit reason and, if the child was killed, why. */
export interface ShutdownResult {
  reason: ExitReason;
  killed?: 'brutal_kill' | 'timeout' | 'stop_failed';
  stopError?: unknown;
}

async function kill(child: Child, why: NonNullable<ShutdownResult['killed']>): Promise<ShutdownResult> {
  child.kill();
  return { reason: await exitOf(child), killed: why };
}

/**
 * Stops one child as OTP does: a graceful stop, then a brutal kill when it has not exited within
 * the policy's timeout (or at once for `brutal_kill`, or when `stop()` itself fails).
 */
export async function shutdownChild(child: Child, policy: ShutdownPolicy): Promise<ShutdownResult> {
  if (policy === 'brutal_kill') return kill(child, 'brutal_kill');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await new Promise<{ exited: ExitReason } | { timeout: true } | { stopError: unknown }>(
    (resolve) => {
      void exitOf(child).then((reason) => resolve({ exited: reason }));
      if (policy !== 'infinity') timer = setTimeout(() => resolve({ timeout: true }), policy);
      try {
        Promise.resolve(child.stop()).catch((stopError: unknown) => resolve({ stopError }));
      } catch (stopError) {
        resolve({ stopError });
      }
    },
  );
  clearTimeout(timer);
  if ('exited' in outcome) return { reason: outcome.exited };
  if ('timeout' in outcome) return kill(child, 'timeout');
  return { ...(await kill(child, 'stop_failed')), stopError: outcome.stopError };
}
