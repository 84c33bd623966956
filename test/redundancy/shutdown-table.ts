import type { HookReason, RedundancyMode } from '../../src/redundancy/pair-machine.ts';

/** The document's states, as the status shows them. */
export type TableState = 'down' | 'standby' | 'active on scan' | 'active off scan';
/** How a row's action is performed. */
export type TableAction =
  | 'deploy'
  | 'forced failover'
  | 'server 1 hard failure'
  | 'server 2 hard failure'
  | 'graceful shutdown of server 1'
  | 'graceful shutdown of server 2'
  | 'start server 1 only'
  | 'start server 2'
  | 'undeploy';

/** One hook run as a row expects it: which hook, and why. */
export type HookRun = `${'startup' | 'shutdown' | 'onScan' | 'offScan'}:${HookReason}`;

/** One row: the document's initial and end states and shutdown column, plus every hook the design runs. */
export interface TableRow {
  mode: RedundancyMode;
  action: TableAction;
  /** The actions that bring a fresh pair to the row's initial state. */
  prefix: TableAction[];
  initial: { s1: TableState; s2: TableState };
  end: { s1: TableState; s2: TableState };
  /** The document's shutdown column: whether shutdown scripts run on each server. */
  shutdown: { s1: boolean; s2: boolean };
  /** Every hook that runs on each server during the action, in order (the shutdown ones agree with the column). */
  hooks: { s1: HookRun[]; s2: HookRun[] };
  /** The document's sentence for the shutdown column. */
  says: string;
}

const DEPLOYED = ['deploy'] as TableAction[];
const AS = 'active on scan';
const AO = 'active off scan';

/** The document's table for both modes: 9 actions × 2 modes. */
export const SHUTDOWN_TABLE: TableRow[] = [
  // Legacy: the backup does not start the service until it takes over.
  {
    mode: 'legacy',
    action: 'deploy',
    prefix: [],
    initial: { s1: 'down', s2: 'down' },
    end: { s1: AS, s2: 'standby' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: ['startup:deploy', 'onScan:deploy'], s2: [] },
    says: 'Shutdown scripts do not execute during a deploy operation.',
  },
  {
    mode: 'legacy',
    action: 'forced failover',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'standby', s2: AS },
    shutdown: { s1: true, s2: false },
    hooks: { s1: ['offScan:failover', 'shutdown:failover'], s2: ['startup:failover', 'onScan:failover'] },
    says: 'Shutdown scripts execute when the primary engine shuts down.',
  },
  {
    mode: 'legacy',
    action: 'server 1 hard failure',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: AS },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: ['startup:takeover', 'onScan:takeover'] },
    says: 'Shutdown scripts do not execute in the event of a hard shutdown.',
  },
  {
    mode: 'legacy',
    action: 'server 2 hard failure',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: [] },
    says: 'Shutdown scripts do not execute in the event of a hard shutdown.',
  },
  {
    mode: 'legacy',
    action: 'graceful shutdown of server 1',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: AO },
    shutdown: { s1: true, s2: false },
    hooks: { s1: ['offScan:shutdown', 'shutdown:shutdown'], s2: ['startup:takeover'] },
    says: 'Shutdown scripts execute when the Primary Engine shuts down.',
  },
  {
    mode: 'legacy',
    action: 'graceful shutdown of server 2',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: [] },
    says: 'Shutdown scripts do not execute when server 2 is shut down, because the backup engine was never started.',
  },
  {
    mode: 'legacy',
    action: 'start server 1 only',
    prefix: ['deploy', 'server 2 hard failure', 'server 1 hard failure'],
    initial: { s1: 'down', s2: 'down' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: ['startup:takeover', 'onScan:takeover'], s2: [] },
    says: 'Shutdown scripts do not execute.',
  },
  {
    mode: 'legacy',
    action: 'start server 2',
    prefix: ['deploy', 'server 2 hard failure'],
    initial: { s1: AS, s2: 'down' },
    end: { s1: AS, s2: 'standby' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: [] },
    says: 'Shutdown scripts do not execute.',
  },
  {
    mode: 'legacy',
    action: 'undeploy',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: 'down' },
    shutdown: { s1: true, s2: false },
    hooks: { s1: ['offScan:undeploy', 'shutdown:undeploy'], s2: [] },
    says: 'Shutdown scripts execute during an undeploy operation as the active engine is shut down. In legacy mode, the backup engine was never started.',
  },
  // Warm: the standby runs its startup hooks and stays off scan until it becomes active.
  {
    mode: 'warm',
    action: 'deploy',
    prefix: [],
    initial: { s1: 'down', s2: 'down' },
    end: { s1: AS, s2: 'standby' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: ['startup:deploy', 'onScan:deploy'], s2: ['startup:deploy'] },
    says: 'Shutdown scripts do not execute during a deploy operation.',
  },
  {
    mode: 'warm',
    action: 'forced failover',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'standby', s2: AS },
    shutdown: { s1: true, s2: false },
    hooks: { s1: ['offScan:failover', 'shutdown:failover', 'startup:failover'], s2: ['onScan:failover'] },
    says: 'Shutdown scripts execute when the primary engine shuts down.',
  },
  {
    mode: 'warm',
    action: 'server 1 hard failure',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: AS },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: ['onScan:takeover'] },
    says: 'Shutdown scripts do not execute in the event of a hard shutdown.',
  },
  {
    mode: 'warm',
    action: 'server 2 hard failure',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: [] },
    says: 'Shutdown scripts do not execute in the event of a hard shutdown.',
  },
  {
    mode: 'warm',
    action: 'graceful shutdown of server 1',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: AO },
    shutdown: { s1: true, s2: false },
    hooks: { s1: ['offScan:shutdown', 'shutdown:shutdown'], s2: [] },
    says: 'Shutdown scripts execute when the primary engine shuts down.',
  },
  {
    mode: 'warm',
    action: 'graceful shutdown of server 2',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: true },
    hooks: { s1: [], s2: ['shutdown:shutdown'] },
    says: 'Shutdown scripts execute when server 2 is shut down because in run warm mode, the backup engine was started previously.',
  },
  {
    mode: 'warm',
    action: 'start server 1 only',
    prefix: ['deploy', 'server 2 hard failure', 'server 1 hard failure'],
    initial: { s1: 'down', s2: 'down' },
    end: { s1: AS, s2: 'down' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: ['startup:restart', 'onScan:takeover'], s2: [] },
    says: 'Shutdown scripts do not execute.',
  },
  {
    mode: 'warm',
    action: 'start server 2',
    prefix: ['deploy', 'server 2 hard failure'],
    initial: { s1: AS, s2: 'down' },
    end: { s1: AS, s2: 'standby' },
    shutdown: { s1: false, s2: false },
    hooks: { s1: [], s2: ['startup:restart'] },
    says: 'Shutdown scripts do not execute.',
  },
  {
    mode: 'warm',
    action: 'undeploy',
    prefix: DEPLOYED,
    initial: { s1: AS, s2: 'standby' },
    end: { s1: 'down', s2: 'down' },
    shutdown: { s1: true, s2: true },
    hooks: { s1: ['offScan:undeploy', 'shutdown:undeploy'], s2: ['shutdown:undeploy'] },
    says: 'Shutdown scripts execute during an undeploy operation as the servers shut down. In run warm mode, both engines were started and are now shut down.',
  },
];
