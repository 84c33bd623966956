import type { ActorHost } from './actor-host.ts';
import type { BulkFailure, BulkResult } from './bulk-result.ts';

/**
 * Suspends many actors concurrently against one shared deadline (one timer for the whole set,
 * not one per actor). Idle actors are suspended synchronously; only actors with a message in
 * flight are awaited. A timed-out actor stays flagged and suspends when its message ends, so
 * the caller decides: resume the set (rollback) or go on.
 */
export async function bulkSuspend(actors: Iterable<ActorHost>, timeoutMs: number): Promise<BulkResult> {
  const unsupported: string[] = [];
  const failures: BulkFailure[] = [];
  const pending: { id: string; done: boolean; promise: Promise<void> }[] = [];
  let count = 0;
  const list = [...actors];
  for (const actor of list) {
    if (!actor.suspendable) unsupported.push(actor.id);
  }
  if (unsupported.length > 0) return { result: 'not_supported', ids: unsupported };
  for (const actor of list) {
    count++;
    if (actor.status === 'stopped' || actor.status === 'failed') {
      failures.push({ id: actor.id, reason: `actor is ${actor.status}` });
      continue;
    }
    const p = actor.suspend();
    if (p) {
      const entry = { id: actor.id, done: false, promise: p };
      entry.promise = p.then(() => {
        entry.done = true;
      });
      pending.push(entry);
    }
  }
  if (pending.length > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(pending.map((e) => e.promise)), deadline]);
    clearTimeout(timer);
    for (const e of pending) {
      if (!e.done)
        failures.push({ id: e.id, reason: `message in flight did not finish within ${timeoutMs} ms` });
    }
  }
  return failures.length > 0
    ? { result: 'errors', count: failures.length, failures }
    : { result: 'ok', count };
}

/** Resumes a set of actors; each delivers its queued messages in arrival order. */
export function bulkResume(actors: Iterable<ActorHost>): number {
  let n = 0;
  for (const actor of actors) {
    actor.resume();
    n++;
  }
  return n;
}
