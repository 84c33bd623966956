import { RelupError } from '../errors.ts';
import type { NodeStatus } from '../node/node-types.ts';
import type { UpgradeReport } from '../relup/upgrade-report.ts';
import { allDone, type NodeSummary, summaryOfError, summaryOfReport } from './cluster-summary.ts';
import type { ControlClient } from './control-client.ts';

/** How a cluster-wide check ended: one summary per node; `done` means the upgrade would pass its checks. */
export interface ClusterCheckResult {
  to: string;
  ok: boolean;
  nodes: NodeSummary[];
}

/**
 * Runs the checks of an upgrade to `to` on every node at once (they change nothing, so there is
 * no reason to go one by one). Nodes already on `to` count as passed.
 */
export async function clusterCheck(
  client: ControlClient,
  opts: { to: string; nodes?: readonly Pick<NodeStatus, 'node' | 'release'>[]; timeoutMs?: number },
): Promise<ClusterCheckResult> {
  const statuses = opts.nodes ?? (await client.discover());
  if (statuses.length === 0) throw new RelupError('UNKNOWN_NODE', 'no node answered discovery');
  const nodes = await Promise.all(
    statuses.map(async ({ node, release }): Promise<NodeSummary> => {
      if (release === opts.to) return { node, outcome: 'done', current: true };
      try {
        const report = await client.request<UpgradeReport>(
          node,
          'check',
          { to: opts.to },
          { timeoutMs: opts.timeoutMs ?? 60_000 },
        );
        return summaryOfReport(node, report);
      } catch (err) {
        return summaryOfError(node, err);
      }
    }),
  );
  return { to: opts.to, ok: allDone(nodes), nodes };
}
