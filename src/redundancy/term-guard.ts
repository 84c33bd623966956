import type { TermStamp } from '../nats/term-header.ts';

/** What a receiver makes of a stamped message. */
export type Admission =
  /** The current term (or a newer one, which becomes current): handle it. */
  | 'current'
  /** A lower term than already seen: a deposed active sent it; drop it. */
  | 'stale'
  /** The same term from another holder: two actives in one term, which must never happen. */
  | 'conflict';

/**
 * The receiver side of fencing: remembers the highest term seen per pair and who held it, and
 * refuses anything older. Messages without a stamp are not its business (not from a pair).
 */
export class TermGuard {
  private readonly highest = new Map<string, { term: number; holder: string }>();
  /** How many stamped messages it refused, per reason. */
  readonly refused = { stale: 0, conflict: 0 };

  /** Checks a stamp and, when it is newer, makes its term the current one. */
  admit(stamp: TermStamp): Admission {
    const seen = this.highest.get(stamp.service);
    if (!seen || stamp.term > seen.term) {
      this.highest.set(stamp.service, { term: stamp.term, holder: stamp.holder });
      return 'current';
    }
    if (stamp.term < seen.term) {
      this.refused.stale++;
      return 'stale';
    }
    if (stamp.holder !== seen.holder) {
      this.refused.conflict++;
      return 'conflict';
    }
    return 'current';
  }

  /** The highest term seen for a pair (0: none). */
  term(service: string): number {
    return this.highest.get(service)?.term ?? 0;
  }
}
