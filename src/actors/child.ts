/** Why a child exited: as in OTP, `normal` and `shutdown` are normal exits, anything else is a crash. */
export type ExitReason = 'normal' | 'shutdown' | { error: unknown };

/** A supervised thing: anything that can exit, be stopped gracefully and be killed. */
export interface Child {
  /** Resolves once when the child has exited, with the reason. */
  readonly exited: Promise<ExitReason>;
  /** Graceful stop: the child finishes what it does and exits with 'shutdown'. */
  stop(): Promise<void>;
  /** Brutal kill: exits at once, no hooks. */
  kill(): void;
}

/** The exit reason of a child killed brutally, after Erlang's `killed`. */
export const KILLED: ExitReason = { error: 'killed' };

/** True for `normal` and `shutdown`: the exits a transient child is not restarted after. */
export function isNormalExit(reason: ExitReason): boolean {
  return reason === 'normal' || reason === 'shutdown';
}

/** True when a value has the shape of a {@link Child}; a `start` that returns anything else fails. */
export function isChild(value: unknown): value is Child {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  const thenable = typeof (c.exited as { then?: unknown } | null | undefined)?.then === 'function';
  return thenable && typeof c.stop === 'function' && typeof c.kill === 'function';
}

/** The exit of a child as a promise that never rejects: a rejected `exited` counts as a crash. */
export function exitOf(child: Child): Promise<ExitReason> {
  return child.exited.then(
    (reason) => reason,
    (error: unknown) => ({ error }),
  );
}
