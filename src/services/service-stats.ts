/** Upper bounds (ms) of the latency histogram's buckets; one more bucket counts everything slower. */
export const LATENCY_BOUNDS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;

/** What status reports of a service's traffic: running totals since the service started. */
export interface ServiceStatsSnapshot {
  /** Session messages answered (requests) since the service started. */
  requests: number;
  /** Of those, answered with an error. */
  errors: number;
  /** The histogram's bucket bounds in ms, shared by every node. */
  boundsMs: readonly number[];
  /** Answered requests per bucket: `buckets[i]` took at most `boundsMs[i]`, the last one longer. */
  buckets: number[];
}

/**
 * Per-service request counters and a latency histogram. The hot path is two increments into
 * preallocated typed arrays: nothing is allocated per message. Readers take totals and compute
 * rates and percentiles from the difference of two snapshots.
 */
export class ServiceStats {
  private requests = 0;
  private errors = 0;
  private readonly histogram = new Float64Array(LATENCY_BOUNDS_MS.length + 1);

  /** Counts one answered request that took `ms` from arrival to reply. */
  observe(ms: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
    this.histogram[i] = this.histogram[i]! + 1;
  }

  /** The totals so far (a copy). */
  snapshot(): ServiceStatsSnapshot {
    return {
      requests: this.requests,
      errors: this.errors,
      boundsMs: LATENCY_BOUNDS_MS,
      buckets: Array.from(this.histogram),
    };
  }
}
