import { nuid } from '@nats-io/nats-core';
import type { Actor } from 'xstate';
import { RelupError } from '../../errors.ts';
import { retryStore } from '../../nats/store-retry.ts';
import type { ReleaseStore } from '../../release/release-store.ts';
import { runUpgrade, type UpgradeEvent } from '../../relup/executor.ts';
import { UpgradeLock } from '../../relup/executor-lock.ts';
import type { Plan } from '../../relup/instruction.ts';
import type { Journal } from '../../relup/journal.ts';
import type { Registry } from '../../relup/registry.ts';
import type { UpgradeReport } from '../../relup/upgrade-report.ts';
import type { CurrentRelease } from '../current-release.ts';
import type { lifecycleMachine } from '../lifecycle.ts';
import type { FailedScript } from '../node-types.ts';
import { enterMaintenanceOnFailure } from './failure-policy.ts';
import { planTransition } from './plan-transition.ts';
import { NodeUpgradeRuntime, type UpgradePorts } from './upgrade-runtime.ts';

/** What an operator asks for. */
export interface UpgradeRequest {
  to: string;
  id?: string;
  /** Run only the steps before the point of no return, then undo them: change nothing. */
  checkOnly?: boolean;
  onEvent?: (e: UpgradeEvent) => void;
  /** Holds the upgrade at the point of no return until it resolves (cluster barrier); a throw aborts. */
  barrier?: () => Promise<void>;
  /** Step ids to leave out (an operator skipping a failed migration script). */
  skip?: string[];
}

/** What the upgrades of a node work with. */
export interface UpgraderDeps {
  node: string;
  lifecycle: Actor<typeof lifecycleMachine>;
  journal: Journal;
  store: ReleaseStore;
  instructions: Registry;
  releasesDir: string;
  relupsDir: string;
  /** Keys one of which must have signed the target release; any sealed release when absent. */
  releaseKeys?: readonly string[] | undefined;
  release: CurrentRelease;
  ports: UpgradePorts;
  /** How the last upgrade ended before this run of the node (from the journal). */
  last: UpgradeReport | undefined;
}

/**
 * The upgrades of one node: one at a time (BUSY otherwise), the report of the last one, and
 * the failed migration script `retry` and `skip` act on.
 */
export class Upgrader {
  /** One upgrade at a time. */
  readonly lock = new UpgradeLock();
  private last: UpgradeReport | undefined;
  private failed: FailedScript | undefined;

  constructor(private readonly deps: UpgraderDeps) {
    this.last = deps.last;
  }

  /** The report of the last upgrade, for status. */
  get lastReport(): UpgradeReport | undefined {
    return this.last;
  }

  /** The high-priority migration script whose failure put the node in maintenance, for retry/skip. */
  get failedScript(): FailedScript | undefined {
    return this.failed;
  }

  /**
   * Runs an upgrade (or a downgrade) of the node to a release. With `checkOnly`, runs the
   * steps before the point of no return and undoes them: the node is left exactly as it was,
   * and the report says whether the upgrade would pass its checks.
   */
  async upgrade(req: UpgradeRequest): Promise<UpgradeReport> {
    const { lifecycle, release, store, node } = this.deps;
    const id = req.id ?? nuid.next();
    this.lock.acquire(id);
    if (!req.checkOnly) lifecycle.send({ type: 'UPGRADE_START', upgrade: id });
    try {
      const t = await planTransition(release.get(), req.to, this.deps);
      const skip = new Set(req.skip ?? []);
      const plan: Plan = { ...t.plan, after: t.plan.after.filter((s) => !skip.has(s.id)) };
      const runtime = new NodeUpgradeRuntime(this.deps.ports, release.get(), t.to, req.barrier);
      const instructions = (op: string) => this.deps.instructions.getInstruction(op);
      const report = await runUpgrade({
        id,
        plan,
        instructions,
        runtime,
        journal: req.checkOnly ? undefined : this.deps.journal,
        onEvent: req.onEvent,
        checkOnly: req.checkOnly,
      });
      if (req.checkOnly) return report;
      this.last = report;
      const failed = await enterMaintenanceOnFailure(this.deps.ports.maintenance, report, req.to);
      if (failed) this.failed = failed;
      const from = release.get().version;
      if (report.outcome === 'done') {
        release.set(t.to);
        // The node runs the new release now: the store must say so, also through a leader election.
        await retryStore(() => store.setCurrent(node, t.to.version));
        const action = t.direction === 'up' ? 'upgraded' : 'downgraded';
        await retryStore(() => store.record({ node, action, from, to: t.to.version }));
      } else if (report.outcome === 'rolled_back' || report.outcome === 'aborted') {
        const outcome = report.outcome;
        await retryStore(() => store.record({ node, action: outcome, from, to: t.to.version }));
      }
      return report;
    } finally {
      if (!req.checkOnly) lifecycle.send({ type: 'UPGRADE_END', upgrade: id });
      this.lock.release(id);
    }
  }

  /** Runs the upgrade whose high-priority script failed again (`retry`) or without that script (`skip`). */
  async resolveFailedScript(action: 'retry' | 'skip'): Promise<UpgradeReport> {
    const failed = this.failed;
    if (!failed) throw new RelupError('NOTHING_TO_RETRY', 'no failed migration script to retry or skip');
    const report = await this.upgrade({ to: failed.to, ...(action === 'skip' && { skip: [failed.step] }) });
    if (report.outcome === 'done') {
      this.failed = undefined;
      await this.deps.ports.maintenance.leave('script_failed');
    }
    return report;
  }
}
