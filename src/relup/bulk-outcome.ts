import type { BulkResult } from '../actors/bulk-result.ts';
import { RelupError, renderError } from '../errors.ts';
import type { StepOutcome } from './instruction.ts';

/**
 * Turns a bulk suspension into a step outcome. Errors fail the step (a timeout is never
 * ignored); before failing, whatever did suspend is resumed, so a failed step leaves nothing
 * behind for the executor to guess about. A set that cannot be suspended at all fails it too,
 * unless `notSupported` is `warn`: then nothing was suspended and the step reports a warning.
 */
export async function bulkSuspendOutcome(
  bulk: BulkResult,
  what: string,
  resumeAll: () => Promise<void>,
  notSupported: 'fail' | 'warn' = 'fail',
): Promise<StepOutcome> {
  if (bulk.result === 'ok') return { result: 'ok', bulk };
  if (bulk.result === 'not_supported' && notSupported === 'warn')
    return { result: 'warning', detail: `${bulk.ids.length} of ${what} cannot be suspended`, bulk };
  let resumeError: string | undefined;
  try {
    await resumeAll();
  } catch (err) {
    resumeError = renderError(err);
  }
  const cleanup = resumeError === undefined ? {} : { resumeError };
  if (bulk.result === 'errors')
    throw new RelupError('SUSPEND_TIMEOUT', `${bulk.count} of ${what} did not suspend`, {
      count: bulk.count,
      failures: bulk.failures,
      ...cleanup,
    });
  throw new RelupError('SUSPEND_NOT_SUPPORTED', `${bulk.ids.length} of ${what} cannot be suspended`, {
    ids: bulk.ids,
    ...cleanup,
  });
}
