// JetStream's API error code for "wrong last sequence": the compare-and-set lost against another write.
const WRONG_LAST_SEQUENCE = 10071;

/** Whether a failed KV create/update lost a compare-and-set (someone else wrote), not a transport failure. */
export function isCasConflict(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === WRONG_LAST_SEQUENCE;
}
