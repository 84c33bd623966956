import { join } from 'node:path';
import { nuid } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import { readManifest } from '../release/manifest.ts';
import { pathExists } from '../release/path-exists.ts';
import { checkReleaseSignature } from '../release/release-signature.ts';
import { type CompiledRelup, compileRelupFile } from '../relup/compile.ts';
import { runUpgrade, type UpgradeEvent } from '../relup/executor.ts';
import type { Instruction, Plan } from '../relup/instruction.ts';
import type { Registry } from '../relup/registry.ts';
import type { UpgradeReport } from '../relup/upgrade-report.ts';
import { enterMaintenance, leaveMaintenance } from './maintenance.ts';
import { NodeRuntime } from './node-runtime.ts';
import type { RelupNode, RunningRelease } from './relup-node.ts';

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

/** A high-priority script that failed an upgrade: what `retry` and `skip` act on. */
export interface FailedScript {
  to: string;
  step: string;
  module: string;
  upgrade: string;
}

/** A compiled transition of this node: the plan to run and the releases it joins. */
export interface Transition {
  file: string;
  direction: 'up' | 'down';
  plan: Plan;
  to: RunningRelease;
}

/**
 * Finds and compiles the relup between the running release and `to`: `<from>-<to>.yaml` for
 * an upgrade, else the down plan of `<to>-<from>.yaml`. The running code is checked against
 * the relup's `from` by the hashes of the files actually loaded, not by the version string.
 */
export async function planTransition(node: RelupNode, to: string, registry?: Registry): Promise<Transition> {
  const from = node.release;
  if (to === from.version) throw new RelupError('BAD_OPTIONS', `release ${to} is already running`);
  const dir = join(node.releasesDir, to);
  const manifest = await readManifest(dir);
  await checkReleaseSignature(dir, node.releaseKeys);
  const base = join(node.relupsDir, from.manifest.name);
  const upFile = join(base, `${from.version}-${to}.yaml`);
  const downFile = join(base, `${to}-${from.version}.yaml`);
  let compiled: CompiledRelup;
  let direction: 'up' | 'down';
  let file: string;
  if (await pathExists(upFile)) {
    file = upFile;
    direction = 'up';
    compiled = await compileRelupFile(upFile, {
      fromManifest: from.manifest,
      toManifest: manifest,
      registry,
    });
  } else if (await pathExists(downFile)) {
    file = downFile;
    direction = 'down';
    compiled = await compileRelupFile(downFile, {
      fromManifest: manifest,
      toManifest: from.manifest,
      registry,
    });
  } else {
    throw new RelupError(
      'UNKNOWN_RELEASE',
      `no relup between ${from.version} and ${to}: looked for ${upFile} and ${downFile}`,
      {
        from: from.version,
        to,
      },
    );
  }
  const onDisk = await readManifest(from.dir);
  const changed = Object.keys({ ...onDisk.files, ...from.manifest.files }).filter(
    (f) => onDisk.files[f] !== from.manifest.files[f],
  );
  if (changed.length > 0)
    throw new RelupError(
      'RELEASE_MISMATCH',
      `the code running as ${from.version} differs from ${from.dir} on disk (${changed.join(', ')}): refusing to upgrade from it`,
      { changed },
    );
  return {
    file,
    direction,
    plan: direction === 'up' ? compiled.plan : compiled.down,
    to: { version: to, dir, manifest },
  };
}

/**
 * Runs an upgrade (or a downgrade) of the node to a release; one at a time (BUSY otherwise).
 * With `checkOnly`, runs the steps before the point of no return and undoes them: the node is
 * left exactly as it was, and the report says whether the upgrade would pass its checks.
 */
export async function upgrade(node: RelupNode, req: UpgradeRequest): Promise<UpgradeReport> {
  const id = req.id ?? nuid.next();
  node.lock.acquire(id);
  if (!req.checkOnly) node.lifecycle.send({ type: 'UPGRADE_START', upgrade: id });
  try {
    const t = await planTransition(node, req.to, node.instructions);
    const skip = new Set(req.skip ?? []);
    const kept = { ...t.plan, after: t.plan.after.filter((s) => !skip.has(s.id)) };
    const plan: Plan = req.checkOnly ? { ...t.plan, after: [] } : kept;
    const runtime = new NodeRuntime(node, node.release, t.to, req.barrier);
    const instructions = (op: string) => node.instructions.getInstruction(op);
    const report = await runUpgrade({
      id,
      plan,
      instructions,
      runtime,
      journal: req.checkOnly ? undefined : node.journal,
      onEvent: req.onEvent,
    });
    if (req.checkOnly) {
      if (report.outcome === 'done') await undoChecks(plan, instructions, runtime);
      return report;
    }
    node.lastUpgrade = report;
    await enterMaintenanceOnFailure(node, report, req.to);
    if (report.outcome === 'done') {
      const from = node.release.version;
      node.release = t.to;
      await node.store.setCurrent(node.id, t.to.version);
      await node.store.record({
        node: node.id,
        action: t.direction === 'up' ? 'upgraded' : 'downgraded',
        from,
        to: t.to.version,
      });
    } else if (report.outcome === 'rolled_back' || report.outcome === 'aborted') {
      await node.store.record({
        node: node.id,
        action: report.outcome,
        from: node.release.version,
        to: t.to.version,
      });
    }
    return report;
  } finally {
    if (!req.checkOnly) node.lifecycle.send({ type: 'UPGRADE_END', upgrade: id });
    node.lock.release(id);
  }
}

/**
 * Automatic maintenance (4ALLPORTAL): a failed high-priority migration script, after its
 * rollback, leaves the node in maintenance with the script named, for `retry` or `skip`; a
 * rollback that failed too does the same with the incident.
 */
async function enterMaintenanceOnFailure(node: RelupNode, report: UpgradeReport, to: string): Promise<void> {
  const failedStep = report.steps.find((s) => s.result === 'failed');
  if (report.outcome === 'rolled_back' && failedStep?.op === 'apply') {
    const module = String(
      (failedStep.detail as { module?: string } | undefined)?.module ?? failedStep.target ?? failedStep.id,
    );
    node.failedScript = { to, step: failedStep.id, module, upgrade: report.id };
    await enterMaintenance(node, {
      reason: 'script_failed',
      message: `migration script ${failedStep.id} failed during the upgrade to ${to}: ${report.error?.message ?? ''}`,
      details: node.failedScript,
    });
  } else if (report.outcome === 'failed') {
    await enterMaintenance(node, {
      reason: 'upgrade_failed',
      message: `the upgrade to ${to} failed and its rollback failed too: ${report.error?.message ?? ''}`,
      details: report.error,
    });
  }
}

/** Runs the upgrade whose high-priority script failed again (`retry`) or without that script (`skip`). */
export async function resolveFailedScript(node: RelupNode, action: 'retry' | 'skip'): Promise<UpgradeReport> {
  const failed = node.failedScript;
  if (!failed) throw new RelupError('NOTHING_TO_RETRY', 'no failed migration script to retry or skip');
  const report = await upgrade(node, { to: failed.to, ...(action === 'skip' && { skip: [failed.step] }) });
  if (report.outcome === 'done') {
    node.failedScript = undefined;
    await leaveMaintenance(node, 'script_failed');
  }
  return report;
}

/** Undoes the steps of a successful check in reverse, so a check leaves nothing loaded. */
async function undoChecks(
  plan: Plan,
  instructions: (op: string) => Instruction | undefined,
  runtime: NodeRuntime,
): Promise<void> {
  const signal = new AbortController().signal;
  for (const step of [...plan.before].reverse())
    await instructions(step.op)?.undo?.({ step, plan, runtime, signal });
}
