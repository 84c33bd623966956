/** The median of a list of numbers (NaN when empty). */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** The p-th percentile (0–100) of a list, linear interpolation between closest ranks. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo] as number;
  const b = s[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** The spread of several runs: lowest and highest value. */
export interface Spread {
  min: number;
  max: number;
}

/** Lowest and highest value of a list (NaN for an empty list). */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { min: Number.NaN, max: Number.NaN };
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** Nanoseconds since an arbitrary origin, as a number of milliseconds (high resolution). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
