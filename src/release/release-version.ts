import semver from 'semver';
import { RelupError } from '../errors.ts';

/** Throws BAD_VERSION unless `version` is a semver version (it names folders, keys and subjects). */
export function assertVersion(version: unknown): asserts version is string {
  if (typeof version !== 'string' || semver.valid(version) === null)
    throw new RelupError('BAD_VERSION', `${JSON.stringify(version)} is not a semver version`, { version });
}
