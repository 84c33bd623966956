import semver from 'semver';

/** One service of a release, as the compiler needs it. */
export interface ReleaseServiceInfo {
  name: string;
  version: string;
  /** Path of the service's module relative to the release folder; a key of `files`. */
  module: string;
  /** Present when the service runs as a redundant pair (primary and backup node). */
  redundant?: object;
}

/**
 * The part of a release manifest the relup compiler reads. Kept minimal so any structurally
 * compatible manifest (e.g. `ReleaseManifest` of `release/manifest.ts`) can be passed.
 */
export interface ReleaseInfo {
  name: string;
  version: string;
  services: readonly ReleaseServiceInfo[];
  /** Module path → sha256. */
  files: Readonly<Record<string, string>>;
}

/** The service of that name in a release, if it has one. */
export function findService(release: ReleaseInfo, name: string): ReleaseServiceInfo | undefined {
  return release.services.find((s) => s.name === name);
}

/** The release that ships the migration scripts of a transition between two releases: the newer one. */
export function scriptRelease(a: ReleaseInfo, b: ReleaseInfo): ReleaseInfo {
  return semver.gt(a.version, b.version) ? a : b;
}
