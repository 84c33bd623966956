import { RelupError } from '../errors.ts';

/** How often a holder renews, when it stops acting without a renewal, and when its partner may take over. */
export interface LeaseTiming {
  /** How often the holder renews the pair record (ms). */
  beatMs: number;
  /** The holder stops taking work when no renewal it sent in the last this many ms succeeded. */
  renewDeadlineMs: number;
  /** A partner takes over after seeing no new revision of the record for this long on its own clock. */
  leaseMs: number;
}

/** The default timing: 4 renewals a second, self-fence after 1 s, takeover after 1.5 s of silence. */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { beatMs: 250, renewDeadlineMs: 1000, leaseMs: 1500 };

// A partner's clock may run this much faster than the holder's before two could act at once.
const DRIFT_MARGIN = 1.2;

/**
 * What is wrong with a timing: `leaseMs ≥ 1.2 × renewDeadlineMs` (the drift margin: the holder
 * stops before a partner whose clock runs up to 20 % fast could take over), `renewDeadlineMs ≥
 * 2 × beatMs` (one lost renewal does not fence a healthy holder) and every value an integer
 * from 10 to 600000. Missing values are the defaults. Empty when it is fine.
 */
export function leaseTimingProblems(partial: Partial<LeaseTiming> = {}): string[] {
  const t = { ...DEFAULT_LEASE_TIMING, ...partial };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(t))
    if (!Number.isInteger(v) || v < 10 || v > 600_000)
      problems.push(`${k} must be an integer from 10 to 600000`);
  if (t.renewDeadlineMs < 2 * t.beatMs) problems.push('renewDeadlineMs must be at least 2 × beatMs');
  if (t.leaseMs < DRIFT_MARGIN * t.renewDeadlineMs)
    problems.push(`leaseMs must be at least ${DRIFT_MARGIN} × renewDeadlineMs`);
  return problems;
}

/** A checked timing, the defaults filled in; BAD_OPTIONS with the problems (see leaseTimingProblems). */
export function leaseTiming(partial: Partial<LeaseTiming> = {}): LeaseTiming {
  const t = { ...DEFAULT_LEASE_TIMING, ...partial };
  const problems = leaseTimingProblems(t);
  if (problems.length > 0)
    throw new RelupError('BAD_OPTIONS', `bad lease timing: ${problems.join('; ')}`, { timing: t, problems });
  return t;
}
