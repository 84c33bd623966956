import { dirname, join } from 'node:path';
import { RelupError } from '../errors.ts';
import { pathExists } from '../release/path-exists.ts';

/** A relup file found for a transition, and which way it is run. */
export interface LocatedRelup {
  file: string;
  /** `up`: the file's own plan; `down`: the down plan of the file from `to` to `from`. */
  direction: 'up' | 'down';
}

/**
 * Finds the relup between two versions of a release: `<relupsDir>/<release>/<from>-<to>.yaml`
 * for an upgrade, else `<to>-<from>.yaml` run down. NO_RELUP names both paths when neither exists.
 */
export async function findRelup(
  relupsDir: string,
  release: string,
  from: string,
  to: string,
): Promise<LocatedRelup> {
  const base = join(relupsDir, release);
  const upFile = join(base, `${from}-${to}.yaml`);
  if (await pathExists(upFile)) return { file: upFile, direction: 'up' };
  const downFile = join(base, `${to}-${from}.yaml`);
  if (await pathExists(downFile)) return { file: downFile, direction: 'down' };
  throw new RelupError(
    'NO_RELUP',
    `no relup between ${from} and ${to}: looked for ${upFile} and ${downFile}`,
    {
      from,
      to,
    },
  );
}

/**
 * The releases folder of the project layout a relup file sits in (`<project>/relups/<release>/<file>`
 * beside `<project>/releases/<version>/release.json`), when both versions are there; else undefined.
 */
export async function releasesBeside(file: string, from: string, to: string): Promise<string | undefined> {
  const releases = join(dirname(dirname(dirname(file))), 'releases');
  const found = await Promise.all([from, to].map((v) => pathExists(join(releases, v, 'release.json'))));
  return found.every(Boolean) ? releases : undefined;
}
