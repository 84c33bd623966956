const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/**
 * The suspend timeout when a relup names none: 5 s, above the 1000 ms reference default of a bulk
 * channel suspension, since a channel may be awaiting a JetStream acknowledgement.
 */
export const DEFAULT_SUSPEND_TIMEOUT_MS = 5000;

/**
 * Parses a relup duration: `250ms`, `5s`, `2m`, `1h`, or a number of milliseconds.
 * Returns undefined for anything else, so callers decide how to report it.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}
