/** One actor that a bulk operation could not handle, and why. */
export interface BulkFailure {
  id: string;
  reason: string;
}

/**
 * The result of a bulk suspension,: `ok`, `errors` with a
 * count and every failure, or `not_supported` when the set contains actors that cannot suspend.
 */
export type BulkResult =
  | { result: 'ok'; count: number }
  | { result: 'errors'; count: number; failures: BulkFailure[] }
  | { result: 'not_supported'; ids: string[] };
