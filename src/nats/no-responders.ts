/**
 * True when a NATS request failed because nobody subscribes to the subject. nats.js v3 reports
 * it as a RequestError whose `isNoResponders()` is true (older paths: a NoRespondersError, or
 * the server's 503 status); the one place that knows, so callers map it to their own code.
 */
export function isNoResponders(err: unknown): boolean {
  const e = err as
    | { isNoResponders?: () => boolean; name?: string; code?: string; message?: string }
    | undefined;
  return (
    e?.isNoResponders?.() === true ||
    e?.name === 'NoRespondersError' ||
    e?.code === '503' ||
    /no responders/i.test(String(e?.message))
  );
}
