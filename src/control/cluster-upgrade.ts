import { nuid } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import type { NodeStatus } from '../node/node-types.ts';
import type { UpgradeReport } from '../relup/upgrade-report.ts';
import type { BarrierVerdict } from './barrier-signing.ts';
import { barrierSubjects } from './barrier-subjects.ts';
import { BarrierCoordinator } from './cluster-barrier.ts';
import { allDone, type NodeSummary, summaryOfError, summaryOfReport } from './cluster-summary.ts';
import type { ControlClient } from './control-client.ts';
import { standbysFirst } from './pair-order.ts';

/** `rolling`: node by node, stopping at the first failure; `barrier`: all at once, nobody passes the point of no return unless all can. */
export type ClusterMode = 'rolling' | 'barrier';

/** What a cluster-wide upgrade needs. */
export interface ClusterUpgradeOptions {
  to: string;
  mode: ClusterMode;
  /** `upgrade` (default) or `downgrade`; the protocol has no barrier for a downgrade, so that runs rolling. */
  command?: 'upgrade' | 'downgrade';
  /** The nodes and what they run; default every node that answers discovery. */
  nodes?: readonly Pick<NodeStatus, 'node' | 'release' | 'redundancy'>[];
  /** How long one node's upgrade may take until it replies, default 120 s. */
  timeoutMs?: number;
  /** How long nodes wait for each other at the point of no return, default 30 s. */
  barrierTimeoutMs?: number;
  /** How long an upgraded node has to show the new release in its status, default 10 s. */
  readyTimeoutMs?: number;
  /** The upgrade id every node runs under (tags their events), default a fresh nuid. */
  upgradeId?: string;
  /** Called with each node's summary as soon as it is known. */
  onSummary?: (summary: NodeSummary) => void;
}

/** How a cluster-wide upgrade ended: one summary per node, in the order they were upgraded. */
export interface ClusterUpgradeResult {
  to: string;
  mode: ClusterMode;
  /** Every node runs the target release. */
  ok: boolean;
  nodes: NodeSummary[];
  /** The barrier's decision, in barrier mode. */
  barrier?: BarrierVerdict;
}

/** Upgrades (or downgrades) every node of the cluster to a release, rolling or behind a barrier. */
export async function clusterUpgrade(
  client: ControlClient,
  opts: ClusterUpgradeOptions,
): Promise<ClusterUpgradeResult> {
  const statuses = opts.nodes ?? (await client.discover());
  if (statuses.length === 0) throw new RelupError('UNKNOWN_NODE', 'no node answered discovery');
  const report = (s: NodeSummary) => {
    opts.onSummary?.(s);
    return s;
  };
  const current = statuses
    .filter((s) => s.release === opts.to)
    .map((s) => report({ node: s.node, outcome: 'done', current: true }));
  // The actives of redundant pairs last: their standbys take the new release first (see standbysFirst).
  const pending = standbysFirst(statuses.filter((s) => s.release !== opts.to)).map((s) => s.node);
  const all = { ...opts, upgradeId: opts.upgradeId ?? nuid.next() };
  const run =
    opts.mode === 'barrier' && (opts.command ?? 'upgrade') === 'upgrade' && pending.length > 0
      ? await behindBarrier(client, pending, all, report)
      : { nodes: await rolling(client, pending, all, report) };
  const nodes = [...current, ...run.nodes];
  return {
    to: opts.to,
    mode: opts.mode,
    ok: allDone(nodes),
    nodes,
    ...('barrier' in run && { barrier: run.barrier }),
  };
}

async function rolling(
  client: ControlClient,
  nodes: readonly string[],
  opts: ClusterUpgradeOptions,
  report: (s: NodeSummary) => NodeSummary,
): Promise<NodeSummary[]> {
  const out: NodeSummary[] = [];
  for (const node of nodes) {
    if (out.some((s) => s.outcome !== 'done')) {
      out.push(report({ node, outcome: 'skipped' }));
      continue;
    }
    const summary = await upgradeOne(client, node, opts, {});
    out.push(report(summary));
  }
  return out;
}

async function behindBarrier(
  client: ControlClient,
  nodes: readonly string[],
  opts: ClusterUpgradeOptions,
  report: (s: NodeSummary) => NodeSummary,
): Promise<{ nodes: NodeSummary[]; barrier: BarrierVerdict }> {
  const id = nuid.next();
  const timeoutMs = opts.barrierTimeoutMs ?? 30_000;
  const seed = client.opts.seed;
  const coordinator = new BarrierCoordinator(
    client.nc,
    barrierSubjects(client.prefix, id),
    nodes,
    timeoutMs,
    seed === undefined ? undefined : { id, seed },
  );
  await coordinator.start();
  try {
    const settled = nodes.map((node) =>
      upgradeOne(client, node, opts, { barrier: { id, timeoutMs } }, (why) =>
        coordinator.nodeEnded(node, why),
      ),
    );
    const barrier = await coordinator.decision;
    const summaries = await Promise.all(settled);
    return { nodes: summaries.map(report), barrier };
  } finally {
    coordinator.close();
  }
}

/** One node's upgrade; a done one counts only once its status shows the release and no upgrade running. */
async function upgradeOne(
  client: ControlClient,
  node: string,
  opts: ClusterUpgradeOptions,
  extra: Record<string, unknown>,
  ended?: (why: string) => void,
): Promise<NodeSummary> {
  let summary: NodeSummary;
  try {
    const result = await client.request<UpgradeReport>(
      node,
      opts.command ?? 'upgrade',
      { to: opts.to, ...(opts.upgradeId !== undefined && { id: opts.upgradeId }), ...extra },
      { timeoutMs: opts.timeoutMs ?? 120_000 },
    );
    ended?.(result.error?.message ?? result.outcome);
    summary = summaryOfReport(node, result);
  } catch (err) {
    ended?.((err as Error).message);
    return summaryOfError(node, err);
  }
  if (summary.outcome !== 'done') return summary;
  try {
    await waitReady(client, node, opts.to, opts.readyTimeoutMs ?? 10_000);
    return summary;
  } catch (err) {
    return {
      ...summaryOfError(node, err),
      ...(summary.pauseMs !== undefined && { pauseMs: summary.pauseMs }),
    };
  }
}

/**
 * Polls a node's status until it runs `to` with no upgrade in flight. The upgrade's reply
 * normally means that already holds; polling covers a node that replied just before recording it.
 */
export async function waitReady(
  client: ControlClient,
  node: string,
  to: string,
  timeoutMs: number,
): Promise<NodeStatus> {
  const deadline = Date.now() + timeoutMs;
  let pause = 25;
  for (;;) {
    const left = deadline - Date.now();
    const status = await client.request<NodeStatus>(node, 'status', {}, { timeoutMs: Math.max(left, 1) });
    if (status.release === to && !status.upgrading) return status;
    if (Date.now() + pause > deadline)
      throw new RelupError(
        'TIMEOUT',
        `${node} reported its upgrade done but its status shows ${status.release}${status.upgrading ? ` with upgrade ${status.upgrading} running` : ''}, not ${to}, after ${timeoutMs} ms`,
        { node, release: status.release, upgrading: status.upgrading },
      );
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 500);
  }
}
