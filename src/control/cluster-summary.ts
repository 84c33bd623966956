import { type ErrorBody, toRelupError } from '../errors.ts';
import type { UpgradeOutcome, UpgradeReport } from '../relup/upgrade-report.ts';

/**
 * How one node came out of a cluster-wide operation: the upgrade's own outcome, `error` when the
 * command failed before an upgrade ran (or no report came back), `skipped` when it never was sent.
 */
export type ClusterNodeOutcome = UpgradeOutcome | 'error' | 'skipped';

/** One node's line in the summary of a cluster-wide upgrade or check. */
export interface NodeSummary {
  node: string;
  outcome: ClusterNodeOutcome;
  error?: ErrorBody;
  /** The pause clients of this node saw, for an upgrade that suspended them. */
  pauseMs?: number;
  /** The node already ran the target release: nothing was sent to it. */
  current?: true;
}

/** The summary line of a node from the report its upgrade replied with. */
export function summaryOfReport(node: string, report: UpgradeReport): NodeSummary {
  return {
    node,
    outcome: report.outcome,
    ...(report.error && { error: { code: report.error.code, message: report.error.message } }),
    ...(report.pauseMs !== undefined && { pauseMs: report.pauseMs }),
  };
}

/** The summary line of a node whose command failed without a report. */
export function summaryOfError(node: string, err: unknown): NodeSummary {
  const { code, message } = toRelupError(err, 'STEP_FAILED');
  return { node, outcome: 'error', error: { code, message } };
}

/** True when every node ended on the target: the cluster-wide operation succeeded. */
export function allDone(nodes: readonly NodeSummary[]): boolean {
  return nodes.every((n) => n.outcome === 'done');
}
