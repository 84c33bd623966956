import { nuid } from '@nats-io/nats-core';
import { clusterCheck } from '../../control/cluster-check.ts';
import { type ClusterMode, clusterUpgrade } from '../../control/cluster-upgrade.ts';
import type { ControlClient } from '../../control/control-client.ts';
import { RelupError } from '../../errors.ts';
import type { NodeStatus } from '../../node/node-types.ts';
import type { UpgradeReport } from '../../relup/upgrade-report.ts';
import { createProgress } from '../progress.ts';
import type { ProgressNodes } from '../progress-display.ts';
import { type Ctl, reportError } from './context.ts';
import { channelCount, renderReport, renderSummary } from './render.ts';

/** The options of check, upgrade and downgrade. */
export interface TransitionOptions {
  to: string;
  node?: string;
  all?: boolean;
  mode: ClusterMode;
  barrierTimeout?: number;
}

/** Runs `check`, `upgrade` or `downgrade` on one node or on the cluster; exit code 1 unless every node got there. */
export async function transition(
  ctl: Ctl,
  command: 'check' | 'upgrade' | 'downgrade',
  opts: TransitionOptions,
): Promise<number> {
  if (!opts.node && !opts.all) ctl.usage('give --node <id> or --all');
  if (command === 'downgrade' && opts.all && opts.mode === 'barrier')
    ctl.usage('a downgrade has no barrier: use --mode rolling');
  const client = await ctl.client();
  if (command === 'check')
    return opts.node ? checkOne(ctl, client, opts.node, opts.to) : checkAll(ctl, client, opts.to);
  return opts.node
    ? upgradeOne(ctl, client, command, opts.node, opts.to)
    : upgradeAll(ctl, client, command, opts);
}

async function checkOne(ctl: Ctl, client: ControlClient, node: string, to: string): Promise<number> {
  const report = await client.request<UpgradeReport>(
    node,
    'check',
    { to },
    { timeoutMs: ctl.timeout(60_000) },
  );
  if (ctl.json) ctl.printJson(report);
  else ctl.print(renderReport(node, report, 'check'));
  return report.outcome === 'done' ? 0 : ctl.fail(reportError(node, report.error, report.outcome));
}

async function checkAll(ctl: Ctl, client: ControlClient, to: string): Promise<number> {
  const result = await clusterCheck(client, { to, timeoutMs: ctl.timeout(60_000) });
  if (ctl.json) ctl.printJson(result);
  else ctl.print(renderSummary(result.nodes));
  return result.ok ? 0 : ctl.fail(incomplete(result.nodes, to, 'would not pass the checks of'));
}

async function upgradeOne(
  ctl: Ctl,
  client: ControlClient,
  command: 'upgrade' | 'downgrade',
  node: string,
  to: string,
): Promise<number> {
  // The status first: it tells an unknown node early and gives the channel count for the display.
  const status = await client.request<NodeStatus>(node, 'status', {}, { timeoutMs: 5000 });
  const id = nuid.next();
  const report = await withProgress(ctl, client, node, id, [{ node, channels: channelCount(status) }], () =>
    client.request<UpgradeReport>(node, command, { to, id }, { timeoutMs: ctl.timeout(120_000) }),
  );
  if (ctl.json) ctl.printJson(report);
  else ctl.print(renderReport(node, report, command));
  return report.outcome === 'done' ? 0 : ctl.fail(reportError(node, report.error, report.outcome));
}

async function upgradeAll(
  ctl: Ctl,
  client: ControlClient,
  command: 'upgrade' | 'downgrade',
  opts: TransitionOptions,
): Promise<number> {
  const statuses = await client.discover();
  if (statuses.length === 0) throw new RelupError('UNKNOWN_NODE', 'no node answered discovery');
  const pending = statuses.filter((s) => s.release !== opts.to);
  const upgradeId = nuid.next();
  const result = await withProgress(
    ctl,
    client,
    '*',
    upgradeId,
    pending.map((s) => ({ node: s.node, channels: channelCount(s) })),
    () =>
      clusterUpgrade(client, {
        to: opts.to,
        mode: opts.mode,
        command,
        nodes: statuses,
        upgradeId,
        timeoutMs: ctl.timeout(120_000),
        ...(opts.barrierTimeout !== undefined && { barrierTimeoutMs: opts.barrierTimeout }),
      }),
  );
  if (ctl.json) ctl.printJson(result);
  else ctl.print(renderSummary(result.nodes));
  return result.ok ? 0 : ctl.fail(incomplete(result.nodes, opts.to, 'did not move to'));
}

/**
 * Runs `work` while showing the events of upgrade `upgradeId` on `node` (or `*`); subscribed
 * before the work starts, so none is missed.
 */
async function withProgress<T>(
  ctl: Ctl,
  client: ControlClient,
  node: string,
  upgradeId: string,
  nodes: ProgressNodes,
  work: () => Promise<T>,
): Promise<T> {
  const events = client.events(node);
  await events.ready;
  const display = createProgress(nodes, { json: ctl.json });
  const pump = (async () => {
    for await (const e of events) if (e.upgrade === upgradeId) display.event(e);
  })();
  try {
    return await work();
  } finally {
    // The reply comes after the node's last event on the same connection, so nothing is cut off.
    events.close();
    await pump.catch(() => {});
    display.stop();
  }
}

function incomplete(
  nodes: readonly { node: string; outcome: string; error?: { code: string } }[],
  to: string,
  what: string,
) {
  const bad = nodes.filter((n) => n.outcome !== 'done');
  return new RelupError(
    'UPGRADE_INCOMPLETE',
    `${bad.length} of ${nodes.length} nodes ${what} ${to}: ${bad.map((n) => `${n.node} ${n.outcome}${n.error ? ` (${n.error.code})` : ''}`).join(', ')}`,
    { nodes: bad.map((n) => n.node) },
  );
}
