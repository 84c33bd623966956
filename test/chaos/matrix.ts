import { FAULT_KINDS, type FaultKind } from './faults.ts';
import { FAULT_POINTS, type FaultPoint } from './points.ts';
import { type Scenario, scenarioName } from './scenario.ts';

/**
 * Points a fault is tried at. A node's own faults and the faults of the server it is on land at
 * every point; cluster-wide faults (leaders, all servers) at steady state and inside the pause
 * and hook, where the journal and the upgrade write most.
 */
const POINTS: Record<FaultKind, readonly FaultPoint[]> = {
  'server-of-node': FAULT_POINTS,
  'meta-leader': ['steady', 'in-hook', 'in-pause'],
  'stream-leader': ['steady', 'in-hook', 'in-pause'],
  'restart-all': ['steady', 'in-pause'],
  'store-lost': ['steady'],
  'server-sigstop': ['steady', 'in-hook', 'in-pause'],
  'node-sigkill': FAULT_POINTS,
  'node-sigterm': FAULT_POINTS,
  'node-cut': ['steady', 'in-hook', 'in-pause', 'before-permanent'],
};

/**
 * Scenarios that cannot pass by design, with what users see and the configuration that avoids
 * it: relup's state on one server (R1) is gone while that server is.
 */
export const BY_DESIGN: readonly { scenario: Scenario; why: string; avoid: string }[] = [
  {
    scenario: { fault: 'store-lost', point: 'steady', replicas: 1 },
    why:
      'With one replica the event journal, the snapshots and the ownership entries live on one server only. ' +
      'When that server loses its store, every say acknowledged since the last snapshot of its room is gone: ' +
      'rooms restart from an older snapshot or from nothing, hand out seqs that were acknowledged already for ' +
      'other texts, and sessions whose records were there are refused `UNKNOWN_SESSION`. While it is down, every ' +
      'durable say is answered `SNAPSHOT_STORE_FAILED` or times out (nothing new is acknowledged).',
    avoid:
      'Run relup on a cluster with 3 replicas (`--replicas 3` / `RELUP_REPLICAS=3`, the default on a cluster that ' +
      'advertises its servers): `store-lost@steady` passes with R3.',
  },
];

/** The whole matrix, R3, then one R1 cell that passes (SIGKILL keeps the store) and the by-design R1 cells. */
export function matrix(): Scenario[] {
  return [
    ...FAULT_KINDS.flatMap((fault) => POINTS[fault].map((point) => ({ fault, point }))),
    { fault: 'stream-leader', point: 'steady', replicas: 1 },
    ...BY_DESIGN.map((b) => b.scenario),
  ];
}
/** The scenario called `name` (see {@link scenarioName}). */
export function findScenario(name: string): Scenario | undefined {
  return matrix().find((s) => scenarioName(s) === name);
}

/** Whether a scenario is expected to fail by design. */
export function byDesign(s: Scenario): boolean {
  return BY_DESIGN.some((b) => scenarioName(b.scenario) === scenarioName(s));
}
