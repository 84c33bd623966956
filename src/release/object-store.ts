import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { RelupError } from '../errors.ts';
import { replicasFor } from '../nats/replicas.ts';
import { storeError } from '../nats/store-error.ts';
import { verifyRelease } from './code-loader.ts';
import { MANIFEST_FILE, readManifest } from './manifest.ts';

/** The JetStream object store bucket releases are distributed through. */
export const RELEASES_BUCKET = 'relup_releases';

/** Where the release distribution lives. */
export interface ReleaseObjectsOptions {
  /** The object store bucket, default {@link RELEASES_BUCKET}. */
  bucket?: string;
  /** Copies kept by JetStream, default what the server reports (see `replicasFor`); an existing store keeps its own. */
  replicas?: number;
}

/** What {@link publishRelease} stored. */
export interface PublishedRelease {
  name: string;
  version: string;
  /** The object names, the manifest last. */
  objects: string[];
  /** False when the same release was published before (nothing changed). */
  changed: boolean;
}

/** The object name of one file of a release: `<name>/<version>/<path>`. */
export function releaseObjectName(name: string, version: string, path: string): string {
  return `${name}/${version}/${path}`;
}

/** Opens (creating when missing) the release object store. */
export async function openReleaseObjects(
  nc: NatsConnection,
  opts: ReleaseObjectsOptions = {},
): Promise<ObjectStore> {
  const bucket = opts.bucket ?? RELEASES_BUCKET;
  const replicas = replicasFor(nc, opts.replicas);
  try {
    return await new Objm(nc).create(bucket, { replicas });
  } catch (err) {
    throw storeError(`cannot open the object store ${bucket}`, err);
  }
}

/**
 * Stores a sealed release folder (release.json and every file it lists) in the object store.
 * The folder is verified first, so a broken release is never distributed; files go up before
 * the manifest, so a fetcher that finds the manifest finds every file. A version is immutable:
 * publishing other content under a published version is a CONFLICT.
 */
export async function publishRelease(
  nc: NatsConnection,
  dir: string,
  opts: ReleaseObjectsOptions = {},
): Promise<PublishedRelease> {
  const manifest = await readManifest(dir);
  const verified = await verifyRelease(dir, manifest);
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  const os = await openReleaseObjects(nc, opts);
  const name = (path: string) => releaseObjectName(manifest.name, manifest.version, path);
  const published = await get(os, name(MANIFEST_FILE));
  if (published) {
    if (Buffer.from(published).equals(manifestBytes))
      return { name: manifest.name, version: manifest.version, objects: [], changed: false };
    throw new RelupError(
      'CONFLICT',
      `${manifest.name}@${manifest.version} is already published with other content; ship changes as a new version`,
      { name: manifest.name, version: manifest.version },
    );
  }
  const objects: string[] = [];
  for (const [path, real] of Object.entries(verified.paths)) {
    await put(os, name(path), await readFile(real));
    objects.push(name(path));
  }
  await put(os, name(MANIFEST_FILE), manifestBytes);
  objects.push(name(MANIFEST_FILE));
  return { name: manifest.name, version: manifest.version, objects, changed: true };
}

/** Reads one object's bytes; null when there is no such object. */
export async function get(os: ObjectStore, name: string): Promise<Uint8Array | null> {
  try {
    return await os.getBlob(name);
  } catch (err) {
    throw storeError(`cannot read ${name} from the object store`, err);
  }
}

async function put(os: ObjectStore, name: string, data: Uint8Array): Promise<void> {
  try {
    await os.putBlob({ name }, data);
  } catch (err) {
    throw storeError(`cannot write ${name} to the object store`, err);
  }
}
