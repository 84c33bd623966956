import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Subjects } from '../nats/subjects.ts';
import type { MaintenanceReason } from '../node/lifecycle.ts';
import type { NodeEvents } from '../node/node-events.ts';
import type {
  DisconnectOptions,
  LeaveResult,
  MaintenanceRequest,
  MaintenanceResult,
  NodeStatus,
  RunningRelease,
} from '../node/node-types.ts';
import type { UpgradeRequest } from '../node/upgrade/upgrade.ts';
import type { ReleaseStore } from '../release/release-store.ts';
import type { UpgradeProgress, UpgradeReport } from '../relup/upgrade-report.ts';

/** What the control server and its commands need of a node (a `RelupNode` is one). */
export interface NodeApi {
  readonly id: string;
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly log: Logger;
  readonly events: NodeEvents;
  /** The folder holding `<version>/release.json`. */
  readonly releasesDir: string;
  /** Keys one of which must have signed a release it fetches; any sealed release when absent. */
  readonly releaseKeys: readonly string[] | undefined;
  /** The release the node runs now. */
  readonly release: RunningRelease;
  /** The cluster's release store. */
  readonly store: ReleaseStore;
  /** The id of the upgrade running now, if any. */
  readonly upgrading: string | undefined;
  /** The node's upgrade journal, oldest first: finished reports and the one in flight. */
  upgradeHistory(): Promise<(UpgradeProgress | UpgradeReport)[]>;
  /** A snapshot of the node for operators. */
  status(): NodeStatus;
  /** Runs an upgrade, a downgrade or a check. */
  upgrade(req: UpgradeRequest): Promise<UpgradeReport>;
  /** Retries or skips the failed migration script. */
  resolveFailedScript(action: 'retry' | 'skip'): Promise<UpgradeReport>;
  enterMaintenance(req?: MaintenanceRequest): Promise<MaintenanceResult>;
  leaveMaintenance(reason?: MaintenanceReason): Promise<LeaveResult>;
  disableService(name: string): Promise<{ state: string }>;
  notifyClients(message: unknown): number;
  disconnectClients(opts?: DisconnectOptions): Promise<number>;
  /** Starts what a `cleanup` restart mode left waiting; false when nothing waited. */
  startWaiting(name: string): Promise<boolean>;
}
