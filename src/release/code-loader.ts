import { readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { RelupError } from '../errors.ts';
import { defineService, type ServiceDefinition } from '../services/define-service.ts';
import { ENGINE_VERSION } from './engine-version.ts';
import { sha256Hex } from './hash.ts';
import type { ReleaseManifest } from './manifest.ts';
import { importModule } from './module-import.ts';
import { isInside } from './path-inside.ts';

/** A release whose files matched their sha256: the real path of each file, by its manifest path. */
export interface VerifiedRelease {
  /** The release folder with symlinks resolved. */
  root: string;
  paths: Record<string, string>;
  /** One digest over all file digests: identifies exactly the code that was verified. */
  fingerprint: string;
}

interface LoadedModule {
  version: string;
  fingerprint: string;
}

// Node never unloads an ES module, so this only grows; status shows it.
const loaded = new Map<string, LoadedModule>();

/** Throws ENGINE_MISMATCH when the release's engine range does not include this engine. */
export function checkEngine(manifest: Pick<ReleaseManifest, 'name' | 'version' | 'engine'>): void {
  if (!semver.satisfies(ENGINE_VERSION, manifest.engine, { includePrerelease: true }))
    throw new RelupError(
      'ENGINE_MISMATCH',
      `release ${manifest.name}@${manifest.version} needs engine ${manifest.engine}, this is ${ENGINE_VERSION}`,
      { release: manifest.version, engine: manifest.engine, actual: ENGINE_VERSION },
    );
}

/**
 * Checks that every file of the manifest stays inside the release folder once symlinks are
 * resolved (MODULE_OUTSIDE_RELEASE) and matches its sha256 (HASH_MISMATCH).
 */
export async function verifyRelease(releaseDir: string, manifest: ReleaseManifest): Promise<VerifiedRelease> {
  const root = await realpath(releaseDir).catch((err: unknown) => {
    throw new RelupError(
      'UNKNOWN_RELEASE',
      `release folder ${releaseDir} not found`,
      { releaseDir },
      { cause: err },
    );
  });
  const paths: Record<string, string> = {};
  const digests: string[] = [];
  for (const [file, expected] of Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lexical = resolve(root, file);
    if (!isInside(root, lexical)) throw outside(releaseDir, file, lexical);
    // The real path is checked before reading, so nothing outside the folder is ever read.
    const real = await realpath(lexical).catch((err: unknown) => {
      throw new RelupError(
        'HASH_MISMATCH',
        `${join(releaseDir, file)} is missing`,
        { file, expected, actual: null },
        { cause: err },
      );
    });
    if (!isInside(root, real)) throw outside(releaseDir, file, real);
    const actual = sha256Hex(await readFile(real));
    if (actual !== expected)
      throw new RelupError('HASH_MISMATCH', `${join(releaseDir, file)} does not match its sha256`, {
        file,
        expected,
        actual,
      });
    paths[file] = real;
    digests.push(`${file}:${actual}`);
  }
  return { root, paths, fingerprint: sha256Hex(new TextEncoder().encode(digests.join('\n'))) };
}

/**
 * Verifies the release, imports one service's module by its absolute file URL (so each release
 * folder is its own module instance) and returns its ServiceDefinition.
 *
 * Between hashing and import() the file could still be rewritten. That window is accepted: the
 * hashes guard against mistakes (a half-copied folder, an edited sealed release, the wrong
 * folder), not against someone with write access to the release folder, who could equally rewrite
 * release.json or the engine itself. Importing a private copy would close it without adding a
 * security boundary, at the price of module paths that no longer point at the release.
 */
export async function loadService(
  releaseDir: string,
  manifest: ReleaseManifest,
  serviceName: string,
): Promise<ServiceDefinition> {
  checkEngine(manifest);
  const entry = manifest.services.find((s) => s.name === serviceName);
  if (!entry)
    throw new RelupError('UNKNOWN_SERVICE', `release ${manifest.version} has no service ${serviceName}`, {
      release: manifest.version,
      service: serviceName,
    });
  const verified = await verifyRelease(releaseDir, manifest);
  const path = verified.paths[entry.module];
  if (path === undefined) throw new RelupError('BAD_RELEASE', `${entry.module} is not listed in files`);
  const url = pathToFileURL(path).href;
  const details = { release: manifest.version, service: serviceName, module: entry.module };
  const before = loaded.get(url);
  // A module URL is imported once per process: a folder changed and re-sealed after its first load
  // would otherwise verify its new bytes yet hand out the old instance.
  if (before && before.fingerprint !== verified.fingerprint)
    throw new RelupError(
      'LOAD_FAILED',
      `${entry.module} of release ${manifest.version} changed since it was loaded; ship changes as a new version`,
      details,
    );
  let mod: { default?: unknown };
  try {
    mod = (await importModule(url)) as { default?: unknown };
  } catch (err) {
    throw new RelupError('LOAD_FAILED', `cannot import ${entry.module}: ${(err as Error).message}`, details, {
      cause: err,
    });
  }
  loaded.set(url, { version: manifest.version, fingerprint: verified.fingerprint });
  let def: ServiceDefinition;
  try {
    def = defineService(mod.default as ServiceDefinition);
  } catch (err) {
    throw new RelupError(
      'LOAD_FAILED',
      `${entry.module} does not export a service definition as default: ${(err as Error).message}`,
      details,
      { cause: err },
    );
  }
  if (def.name !== entry.name || def.version !== entry.version)
    throw new RelupError(
      'LOAD_FAILED',
      `${entry.module} exports ${def.name}@${def.version}, the manifest declares ${entry.name}@${entry.version}`,
      { ...details, exported: { name: def.name, version: def.version } },
    );
  return def;
}

/** How many module URLs this process has imported through loadService (never fewer: no unloading). */
export function loadedModuleCount(): number {
  return loaded.size;
}

/** The release versions with modules loaded in this process, ascending. */
export function loadedVersions(): string[] {
  return [...new Set([...loaded.values()].map((m) => m.version))].sort(semver.compare);
}

function outside(releaseDir: string, file: string, resolved: string): RelupError {
  return new RelupError('MODULE_OUTSIDE_RELEASE', `${file} leaves the release folder ${releaseDir}`, {
    file,
    resolved,
  });
}
