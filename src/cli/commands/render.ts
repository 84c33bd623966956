import { stringify } from 'yaml';
import type { NodeSummary } from '../../control/cluster-summary.ts';
import type { NodeStatus } from '../../node/node-types.ts';
import type { UpgradeReport } from '../../relup/upgrade-report.ts';

/** Rows as left-aligned columns under a header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Node statuses as a table: release, services with their sessions, the upgrade running and the last one. */
export function renderStatuses(statuses: readonly NodeStatus[]): string {
  return table(
    ['NODE', 'RELEASE', 'SERVICES', 'SESSIONS', 'UPGRADING', 'LAST UPGRADE'],
    statuses.map((s) => [
      s.node,
      s.release,
      (s.services ?? [])
        .map((v) => `${v.name}@${v.version}${v.acceptor?.suspended ? ' (suspended)' : ''}`)
        .join(', '),
      String((s.services ?? []).reduce((n, v) => n + (v.sessions ?? 0), 0)),
      s.upgrading ?? '-',
      s.lastUpgrade
        ? `${s.lastUpgrade.from} → ${s.lastUpgrade.to} ${s.lastUpgrade.outcome}${s.lastUpgrade.pauseMs !== undefined ? ` (pause ${s.lastUpgrade.pauseMs.toFixed(1)} ms)` : ''}`
        : '-',
    ]),
  );
}

/** The channels (sessions) a node serves, summed over its services. */
export function channelCount(status: NodeStatus): number {
  return (status.services ?? []).reduce((n, s) => n + (s.sessions ?? 0), 0);
}

/** One line about a finished upgrade or check. */
export function renderReport(
  node: string,
  report: UpgradeReport,
  what: 'upgrade' | 'downgrade' | 'check',
): string {
  const head = `${node}: ${what} ${report.from} → ${report.to}`;
  const steps = `${report.steps.length} steps, ${Math.round(report.durationMs)} ms`;
  const pause = report.pauseMs !== undefined ? `, pause ${report.pauseMs.toFixed(1)} ms` : '';
  if (report.outcome === 'done') return `${head} ${what === 'check' ? 'passed' : 'done'} (${steps}${pause})`;
  const error = report.error ? `: ${report.error.code}: ${report.error.message}` : '';
  return `${head} ${report.outcome} (${steps}${pause})${error}`;
}

/** The per-node summary of a cluster-wide operation as a table. */
export function renderSummary(nodes: readonly NodeSummary[]): string {
  return table(
    ['NODE', 'OUTCOME', 'PAUSE', 'ERROR'],
    nodes.map((n) => [
      n.node,
      n.current ? 'done (already current)' : n.outcome,
      n.pauseMs !== undefined ? `${n.pauseMs.toFixed(1)} ms` : '-',
      n.error ? `${n.error.code}: ${n.error.message}` : '',
    ]),
  );
}

/** Any JSON value as YAML, for results without a dedicated layout. */
export function renderValue(value: unknown): string {
  return stringify(value).trimEnd();
}
