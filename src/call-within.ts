/**
 * Calls `fn` (sync or async) and settles as it does, or rejects with `timedOut()` once `ms` have
 * passed, whichever comes first; the timer is cleared either way. For code a node runs but does
 * not own (a service's hooks), so a hook that hangs cannot hang the node with it.
 */
export async function callWithin<T>(fn: () => T | Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
