import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { type BarrierAbort, type BarrierReady, barrierSubjects } from './barrier-subjects.ts';

/** Where and how long a node waits at a barrier. */
export interface BarrierWait {
  nc: NatsConnection;
  node: string;
  prefix: string;
  id: string;
  timeoutMs: number;
  /** Aborts the wait (e.g. the control server stops): the upgrade aborts with BARRIER_ABORTED. */
  signal?: AbortSignal;
  /**
   * Checks a `go` or `abort` before it counts (the node requires signed commands): a message it
   * throws for is ignored and reported to `onRefused`, and the wait goes on.
   */
  verify?: (decision: 'go' | 'abort', data: Uint8Array) => void;
  /** Hears of every ignored `go` or `abort`, with why. */
  onRefused?: (decision: 'go' | 'abort', err: unknown) => void;
}

/**
 * Announces that this node reached the point of no return and waits for the coordinator:
 * resolves on `go`, throws BARRIER_ABORTED on `abort` (or the signal) and BARRIER_TIMEOUT when
 * neither comes in time. Subscribes before announcing, so a `go` sent the moment the
 * coordinator sees the last `ready` cannot be missed.
 */
export async function waitAtBarrier(w: BarrierWait): Promise<void> {
  const s = barrierSubjects(w.prefix, w.id);
  const subs: Subscription[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      if (w.signal?.aborted) return reject(aborted(w.id, 'the control server is stopping'));
      onAbort = () => reject(aborted(w.id, 'the control server is stopping'));
      w.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(
        () =>
          reject(
            new RelupError('BARRIER_TIMEOUT', `barrier ${w.id} did not open within ${w.timeoutMs} ms`, {
              barrier: w.id,
              timeoutMs: w.timeoutMs,
            }),
          ),
        w.timeoutMs,
      );
      /** True when a verdict may count; a refused one is reported and waited past. */
      const accepted = (decision: 'go' | 'abort', data: Uint8Array): boolean => {
        try {
          w.verify?.(decision, data);
          return true;
        } catch (err) {
          w.onRefused?.(decision, err);
          return false;
        }
      };
      // A subscription error (e.g. not allowed to subscribe) must never read as `go`.
      subs.push(
        w.nc.subscribe(s.go, {
          callback: (err, msg) => {
            if (err) reject(err);
            else if (accepted('go', msg.data)) resolve();
          },
        }),
      );
      subs.push(
        w.nc.subscribe(s.abort, {
          callback: (err, msg) => {
            if (err) reject(err);
            else if (accepted('abort', msg.data)) reject(aborted(w.id, reasonOf(msg.data)));
          },
        }),
      );
      // flush: the server has registered both subscriptions before anyone can see `ready`.
      w.nc
        .flush()
        .then(() => w.nc.publish(s.ready, encode({ node: w.node, ready: true } satisfies BarrierReady)))
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) w.signal?.removeEventListener('abort', onAbort);
    for (const sub of subs) sub.unsubscribe();
  }
}

function aborted(id: string, reason: string | undefined): RelupError {
  return new RelupError(
    'BARRIER_ABORTED',
    `barrier ${id} was aborted${reason ? `: ${reason}` : ''}`,
    reason ? { barrier: id, reason } : { barrier: id },
  );
}

function reasonOf(data: Uint8Array): string | undefined {
  if (data.length === 0) return undefined;
  try {
    const body = decode<BarrierAbort>(data);
    return typeof body?.reason === 'string' ? body.reason : undefined;
  } catch {
    return undefined;
  }
}
