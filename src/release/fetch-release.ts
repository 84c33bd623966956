import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type NatsConnection, nuid } from '@nats-io/nats-core';
import semver from 'semver';
import { RelupError } from '../errors.ts';
import { assertSubjectToken } from '../nats/subjects.ts';
import { zodProblems } from '../problems.ts';
import { verifyRelease } from './code-loader.ts';
import { MANIFEST_FILE, manifestSchema, type ReleaseManifest, readManifest } from './manifest.ts';
import { get, openReleaseObjects, type ReleaseObjectsOptions, releaseObjectName } from './object-store.ts';
import { pathExists } from './path-exists.ts';
import { checkReleaseSignature } from './release-signature.ts';
import { assertVersion } from './release-version.ts';

/** Where releases come from, and which keys must have signed them (none: any sealed release). */
export interface FetchOptions extends ReleaseObjectsOptions {
  trustedKeys?: readonly string[];
}

/**
 * Downloads a published release into `<releasesDir>/<version>/`. Everything is written to a
 * temporary folder beside it, verified against the fetched release.json, and only then renamed
 * into place, so a node never sees a half-written or tampered release: on any failure nothing is
 * left behind. File paths that leave the folder are refused before anything is written.
 */
export async function fetchRelease(
  nc: NatsConnection,
  name: string,
  version: string,
  releasesDir: string,
  opts: FetchOptions = {},
): Promise<ReleaseManifest> {
  // Both end up in paths and subjects: a version like `../x` must never get that far.
  assertSubjectToken('release name', name);
  assertVersion(version);
  const target = join(releasesDir, version);
  if (await pathExists(target))
    throw new RelupError('CONFLICT', `${target} exists already; a release folder is never overwritten`, {
      target,
    });
  const os = await openReleaseObjects(nc, opts);
  const object = (path: string) => releaseObjectName(name, version, path);
  const manifestBytes = await get(os, object(MANIFEST_FILE));
  if (!manifestBytes)
    throw new RelupError('UNKNOWN_RELEASE', `${name}@${version} is not published`, { name, version });
  const declared = parseManifest(manifestBytes, object(MANIFEST_FILE));
  if (declared.name !== name || declared.version !== version)
    throw new RelupError(
      'BAD_RELEASE',
      `${object(MANIFEST_FILE)} declares ${declared.name}@${declared.version}, not ${name}@${version}`,
    );
  await mkdir(releasesDir, { recursive: true });
  // A dot folder that is no semver version: listReleases never mistakes it for a release.
  // mkdir rather than mkdtemp: the folder keeps the umask's mode once renamed into place, not 0700.
  const tmp = join(releasesDir, `.${version}.fetch-${nuid.next()}`);
  await mkdir(tmp);
  try {
    for (const path of Object.keys(declared.files)) {
      const file = inside(tmp, path);
      const bytes = await get(os, object(path));
      if (!bytes)
        throw new RelupError('HASH_MISMATCH', `${object(path)} is missing from the object store`, {
          file: path,
          actual: null,
        });
      await mkdir(dirname(file), { recursive: true });
      await writeSynced(file, bytes);
    }
    await writeSynced(join(tmp, MANIFEST_FILE), manifestBytes);
    const manifest = await readManifest(tmp);
    await verifyRelease(tmp, manifest);
    await checkReleaseSignature(tmp, opts.trustedKeys);
    await renameInto(tmp, target);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Makes sure `<releasesDir>/<version>/` exists, fetching the release from the object store when it
 * does not. Returns true when it fetched, false when the folder was there already (a no-op).
 */
export async function ensureRelease(
  nc: NatsConnection,
  releasesDir: string,
  name: string,
  version: string,
  opts: FetchOptions = {},
): Promise<boolean> {
  if (semver.valid(version) !== null && (await pathExists(join(releasesDir, version, MANIFEST_FILE))))
    return false;
  try {
    await fetchRelease(nc, name, version, releasesDir, opts);
    return true;
  } catch (err) {
    // Another fetch of the same release won the rename: what it put there is verified too.
    if (
      err instanceof RelupError &&
      err.code === 'CONFLICT' &&
      (await pathExists(join(releasesDir, version, MANIFEST_FILE)))
    )
      return false;
    throw err;
  }
}

function parseManifest(bytes: Uint8Array, object: string): ReleaseManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new RelupError('BAD_RELEASE', `${object} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new RelupError('BAD_RELEASE', `${object} is not a valid release manifest`, {
      problems: zodProblems(parsed.error),
    });
  return parsed.data;
}

/** The absolute path of a manifest path inside `root`; MODULE_OUTSIDE_RELEASE when it would leave it. */
function inside(root: string, path: string): string {
  if (path === MANIFEST_FILE)
    throw new RelupError('BAD_RELEASE', `${MANIFEST_FILE} cannot list itself in files`, { file: path });
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (
    isAbsolute(path) ||
    path.includes('\\') ||
    rel === '' ||
    rel === '..' ||
    rel.startsWith(`..${sep}`) ||
    isAbsolute(rel)
  )
    throw new RelupError('MODULE_OUTSIDE_RELEASE', `${path} leaves the release folder`, { file: path });
  return full;
}

/** Writes and fsyncs, so the rename never publishes a folder whose bytes are still in flight. */
async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function renameInto(tmp: string, target: string): Promise<void> {
  try {
    await rename(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new RelupError('CONFLICT', `${target} appeared while the release was being fetched`, { target });
    throw err;
  }
}
