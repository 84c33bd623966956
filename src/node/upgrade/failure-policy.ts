import type { UpgradeReport } from '../../relup/upgrade-report.ts';
import type { Maintenance } from '../maintenance/maintenance.ts';
import type { FailedScript } from '../node-types.ts';

/**
 * Automatic maintenance: a failed high-priority migration script, after its rollback, leaves
 * the node in maintenance with the script named, for `retry` or `skip`; a rollback that failed
 * too does the same with the incident. Returns the failed script, if that is what failed.
 */
export async function enterMaintenanceOnFailure(
  maintenance: Maintenance,
  report: UpgradeReport,
  to: string,
): Promise<FailedScript | undefined> {
  const failedStep = report.steps.find((s) => s.result === 'failed');
  if (report.outcome === 'rolled_back' && failedStep?.op === 'apply') {
    const module = String(
      (failedStep.detail as { module?: string } | undefined)?.module ?? failedStep.target ?? failedStep.id,
    );
    const failed: FailedScript = { to, step: failedStep.id, module, upgrade: report.id };
    await maintenance.enter({
      reason: 'script_failed',
      message: `migration script ${failedStep.id} failed during the upgrade to ${to}: ${report.error?.message ?? ''}`,
      details: failed,
    });
    return failed;
  }
  if (report.outcome === 'failed')
    await maintenance.enter({
      reason: 'upgrade_failed',
      message: `the upgrade to ${to} failed and its rollback failed too: ${report.error?.message ?? ''}`,
      details: report.error,
    });
  return undefined;
}
