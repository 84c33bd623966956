import { RelupError } from '../errors.ts';

/** The JetStream KV bucket holding one election record per redundant pair (history 1, no TTL). */
export const REDUNDANCY_BUCKET = 'relup_redundancy';

/** Whether the active takes work (on scan) or is held (off scan); a new active inherits it. */
export type Scan = 'on' | 'off';

/** Why the record changed hands last; a record released by `undeploy` waits for a new deploy. */
export type HandOver = 'deploy' | 'takeover' | 'failover' | 'shutdown' | 'undeploy';

/**
 * The election record of one pair, under the service name. It is never deleted: a release is a
 * compare-and-set to `released`, so the term survives every hand-over.
 */
export interface PairRecord {
  /** The pair's fencing term: only grows, one more at every change of holder. */
  term: number;
  /** The node holding the lease, or that released it last. */
  holder: string;
  /** The holder's process incarnation: a restarted node with the same id is another holder. */
  incarnation: string;
  /** `held` while the holder renews; `released` when it gave the lease up on purpose. */
  state: 'held' | 'released';
  /** The scan state the holder had, which the next holder inherits. */
  scan: Scan;
  /** How the holder got (held) or gave up (released) the lease. */
  reason: HandOver;
  /** The holder's lease, so observers know when silence means failure. */
  leaseMs: number;
  /** Wall-clock ms of the write, for operators only: no node times a lease by another's clock. */
  at: number;
}

const SERVICE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a service name used as a pair key: `[A-Za-z0-9_-]{1,64}`, else NOT_SUBJECT_SAFE. */
export function pairKey(service: string): string {
  if (!SERVICE_NAME.test(service))
    throw new RelupError('NOT_SUBJECT_SAFE', `a redundant service name must match ${SERVICE_NAME}`, {
      service,
    });
  return service;
}

/** Reads a record from the bucket; anything malformed is BAD_MESSAGE (a foreign writer). */
export function parsePairRecord(value: unknown): PairRecord {
  const r = value as Partial<PairRecord> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    Number.isSafeInteger(r.term) &&
    (r.term as number) >= 0 &&
    typeof r.holder === 'string' &&
    typeof r.incarnation === 'string' &&
    (r.state === 'held' || r.state === 'released') &&
    (r.scan === 'on' || r.scan === 'off') &&
    typeof r.reason === 'string' &&
    Number.isInteger(r.leaseMs);
  if (!ok) throw new RelupError('BAD_MESSAGE', 'a pair record lacks a required field', { record: value });
  return r as PairRecord;
}
