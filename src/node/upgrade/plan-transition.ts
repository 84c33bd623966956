import { join } from 'node:path';
import { RelupError } from '../../errors.ts';
import { readManifest } from '../../release/manifest.ts';
import { checkReleaseSignature } from '../../release/release-signature.ts';
import { compileRelupFile } from '../../relup/compile.ts';
import type { Plan } from '../../relup/instruction.ts';
import { findRelup } from '../../relup/locate.ts';
import type { Registry } from '../../relup/registry.ts';
import type { RunningRelease } from '../node-types.ts';

/** A compiled transition of this node: the plan to run and the releases it joins. */
export interface Transition {
  file: string;
  direction: 'up' | 'down';
  plan: Plan;
  to: RunningRelease;
}

/** Where a node finds releases and relups, and the instructions relups may use. */
export interface TransitionSources {
  releasesDir: string;
  relupsDir: string;
  instructions?: Registry;
  /** Keys one of which must have signed the target release (UNSIGNED_RELEASE otherwise). */
  releaseKeys?: readonly string[] | undefined;
}

/**
 * Finds (relup/locate.ts) and compiles the relup between the running release and `to`: `<from>-<to>.yaml`
 * for an upgrade, else the down plan of `<to>-<from>.yaml`. The running code is checked first
 * against the manifest on disk by the hashes of the files actually loaded, not by the version string.
 */
export async function planTransition(
  from: RunningRelease,
  to: string,
  sources: TransitionSources,
): Promise<Transition> {
  if (to === from.version)
    throw new RelupError('ALREADY_RUNNING', `release ${to} is already running`, { version: to });
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
  const dir = join(sources.releasesDir, to);
  const manifest = await readManifest(dir);
  await checkReleaseSignature(dir, sources.releaseKeys);
  const { file, direction } = await findRelup(sources.relupsDir, from.manifest.name, from.version, to);
  const registry = sources.instructions;
  const compiled =
    direction === 'up'
      ? await compileRelupFile(file, { fromManifest: from.manifest, toManifest: manifest, registry })
      : await compileRelupFile(file, { fromManifest: manifest, toManifest: from.manifest, registry });
  return {
    file,
    direction,
    plan: direction === 'up' ? compiled.plan : compiled.down,
    to: { version: to, dir, manifest },
  };
}
