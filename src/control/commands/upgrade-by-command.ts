import { nuid } from '@nats-io/nats-core';
import semver from 'semver';
import { RelupError, toRelupError } from '../../errors.ts';
import { ensureRelease } from '../../release/fetch-release.ts';
import { listReleases } from '../../release/manifest.ts';
import type { UpgradeReport } from '../../relup/upgrade-report.ts';
import { waitAtBarrier } from '../barrier.ts';
import { verifyVerdict } from '../barrier-signing.ts';
import type { CommandContext } from '../command-registry.ts';

/** Which way a command may move the node. */
export type Direction = 'up' | 'down' | 'any';

/** What check, upgrade and downgrade ask for. */
export interface UpgradeCommandArgs {
  to: string;
  id?: string | undefined;
  barrier?: { id: string; timeoutMs: number } | undefined;
}

/**
 * Runs an upgrade, a downgrade or a check for a command, publishing every step and state on the
 * node's events. Refuses before anything runs when `to` is not on disk (UNKNOWN_RELEASE) or
 * goes the wrong way (BAD_COMMAND); otherwise the outcome, even rolled back, is in the report.
 */
export async function upgradeByCommand(
  ctx: CommandContext<unknown>,
  args: UpgradeCommandArgs,
  direction: Direction,
  checkOnly = false,
): Promise<UpgradeReport> {
  const { node, events } = ctx;
  const running = node.release.version;
  // A release published to the object store but not on this machine's disk is fetched and
  // verified first, so nodes need no shared disk.
  if (semver.valid(args.to))
    await ensureRelease(node.nc, node.releasesDir, node.release.manifest.name, args.to, {
      trustedKeys: node.releaseKeys,
    }).catch((err: unknown) => {
      if ((err as RelupError).code !== 'UNKNOWN_RELEASE') throw err;
    });
  const available = await listReleases(node.releasesDir);
  if (!available.includes(args.to))
    throw new RelupError('UNKNOWN_RELEASE', `release ${args.to} is not in ${node.releasesDir}`, {
      version: args.to,
      available,
    });
  if (args.to === running) throw new RelupError('BAD_COMMAND', `release ${args.to} is already running`);
  if (direction === 'up' && semver.lt(args.to, running))
    throw new RelupError('BAD_COMMAND', `${args.to} is lower than the running ${running}: use downgrade`, {
      running,
      to: args.to,
    });
  if (direction === 'down' && semver.gt(args.to, running))
    throw new RelupError('BAD_COMMAND', `${args.to} is higher than the running ${running}: use upgrade`, {
      running,
      to: args.to,
    });
  const id = args.id ?? nuid.next();
  const barrier = args.barrier;
  const verifier = ctx.verifier;
  return node.upgrade({
    to: args.to,
    id,
    checkOnly,
    onEvent: (e) =>
      events.publish(e.type, {
        command: ctx.id,
        upgrade: e.upgrade,
        step: e.step,
        state: e.state,
        durationMs: e.durationMs,
        total: e.total,
        plan: e.plan,
        from: e.from,
        to: e.to,
        bulk: e.bulk,
        result: e.result,
        error: e.error,
      }),
    barrier:
      barrier &&
      (async () => {
        events.publish('barrier_waiting', { command: ctx.id, upgrade: id, barrier: barrier.id });
        await waitAtBarrier({
          nc: node.nc,
          node: node.id,
          prefix: ctx.prefix,
          id: barrier.id,
          timeoutMs: barrier.timeoutMs,
          signal: ctx.signal,
          verify: verifier && ((decision, data) => verifyVerdict(verifier, barrier.id, decision, data)),
          onRefused: (decision, err) =>
            events.publish('barrier_refused', {
              command: ctx.id,
              upgrade: id,
              barrier: barrier.id,
              decision,
              code: toRelupError(err).code,
              message: (err as Error).message,
            }),
        });
        events.publish('barrier_passed', { command: ctx.id, upgrade: id, barrier: barrier.id });
      }),
  });
}
