import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { RelupError } from '../errors.ts';
import { type LeaseTiming, leaseTimingProblems } from '../nats/lease-timing.ts';
import { isSubjectToken, SUBJECT_TOKEN_RULE } from '../nats/subjects.ts';
import { type Problem, renderProblems, zodProblems } from '../problems.ts';
import type { ComponentRestartModes, RestartMode } from '../services/state-persistence.ts';
import { sha256Hex } from './hash.ts';

/** The file name of a release manifest inside its release folder. */
export const MANIFEST_FILE = 'release.json';

const token = z.string().refine(isSubjectToken, { error: `must be ${SUBJECT_TOKEN_RULE}` });
const version = z.string().refine((v) => semver.valid(v) !== null, { error: 'must be a semver version' });
const range = z.string().refine((v) => semver.validRange(v) !== null, { error: 'must be a semver range' });
const digest = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { error: 'must be a lowercase hex sha256 (64 characters)' });

/** A component's restart mode: clean up leftovers and wait to be started, clear everything, or restore and start. */
const restartMode = z.enum(['restart', 'cleanup', 'clear'] satisfies RestartMode[]);

const serviceSchema = z.object({
  name: token,
  /** Path of the module relative to the release folder; a key of `files`. */
  module: z.string().min(1),
  version,
  /** Services of the same release this one needs. */
  requires: z.array(token).default([]),
  /** The engine versions this service runs on, when narrower than the release's. */
  engine: range.optional(),
  /**
   * What happens to the service's persisted state when its node restarts: one mode for every
   * component, or one per component (`service`: its named actors, `acceptor`, `channels`).
   */
  restart: z
    .union(
      [
        restartMode,
        z.strictObject({
          service: restartMode.optional(),
          acceptor: restartMode.optional(),
          channels: restartMode.optional(),
        }),
      ],
      { error: 'must be "restart", "cleanup" or "clear", or { service?, acceptor?, channels? } of those' },
    )
    .default('restart'),
  /**
   * How kept state is written: `durable` (default) replies only once what a message changed is
   * stored; `write-behind` replies at once and writes snapshots every flush period, so a crash
   * loses what changed since the last one.
   */
  durability: z
    .enum(['durable', 'write-behind'], { error: 'must be "durable" or "write-behind"' })
    .default('durable'),
  /**
   * Runs the service on exactly one node of a pair at a time: `primary` and `backup` node ids,
   * `legacy` (the backup starts it only when it takes over) or `warm` (the backup runs it off
   * scan, ready to take over), and optionally the lease timing in ms.
   */
  redundant: z
    .strictObject({
      primary: token,
      backup: token,
      mode: z.enum(['legacy', 'warm'], { error: 'must be "legacy" or "warm"' }).default('warm'),
      timing: z
        .strictObject({
          beatMs: z.number().int().optional(),
          renewDeadlineMs: z.number().int().optional(),
          leaseMs: z.number().int().optional(),
        })
        .optional(),
    })
    .optional(),
});

/** The zod schema of `release.json` (field checks only; cross-field checks live in readManifest). */
export const manifestSchema = z.object({
  name: token,
  version,
  /** The engine versions this release runs on. */
  engine: range,
  services: z.array(serviceSchema).min(1),
  /** Every module file of the release (path relative to the release folder) → its sha256. */
  files: z.record(z.string().min(1), digest),
});

/** A parsed, valid `release.json`. */
export type ReleaseManifest = z.infer<typeof manifestSchema>;

/** One service of a release as its manifest declares it. */
export type ReleaseService = ReleaseManifest['services'][number];

/** Resolves a service entry's `restart` field to one mode per component (each defaulting to `restart`). */
export function restartModes(restart: ReleaseService['restart'] | undefined): ComponentRestartModes {
  if (restart === undefined || typeof restart === 'string') {
    const mode = restart ?? 'restart';
    return { service: mode, acceptor: mode, channels: mode };
  }
  return {
    service: restart.service ?? 'restart',
    acceptor: restart.acceptor ?? 'restart',
    channels: restart.channels ?? 'restart',
  };
}

/** Reads and validates `<releaseDir>/release.json`; every problem is reported at once in BAD_RELEASE. */
export async function readManifest(releaseDir: string): Promise<ReleaseManifest> {
  const file = join(releaseDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new RelupError('UNKNOWN_RELEASE', `no ${MANIFEST_FILE} in ${releaseDir}`, { releaseDir });
    throw new RelupError(
      'BAD_RELEASE',
      `cannot read ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw badRelease(file, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const parsed = manifestSchema.safeParse(raw);
  const problems = [
    ...(parsed.success ? [] : zodProblems(parsed.error)),
    ...crossFieldProblems(raw, basename(releaseDir)),
  ];
  if (problems.length > 0 || !parsed.success) throw badRelease(file, problems);
  return parsed.data;
}

/**
 * Writes the sha256 of the release's module files into its `files` and returns the validated
 * manifest. Without `files`, hashes every .ts/.js/.mjs file below the folder (not following
 * symlinks, skipping dot folders and node_modules), so an edited example release can be re-sealed.
 */
export async function sealRelease(releaseDir: string, files?: string[]): Promise<ReleaseManifest> {
  const file = join(releaseDir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RelupError(
      'BAD_RELEASE',
      `cannot seal ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  if (!isRecord(raw)) throw badRelease(file, [{ path: '', message: 'must be a JSON object' }]);
  const paths = (files ?? (await moduleFiles(releaseDir))).slice().sort();
  const digests: Record<string, string> = {};
  for (const path of paths) digests[path] = sha256Hex(await readFile(join(releaseDir, path)));
  // A signature covers the old hashes: sealing again drops it, `release seal --sign` signs anew.
  const { signature: _signature, ...unsigned } = raw;
  await writeFile(file, `${JSON.stringify({ ...unsigned, files: digests }, null, 2)}\n`);
  return readManifest(releaseDir);
}

/** The release versions under `releasesDir` (folders named by a semver version holding a release.json), ascending. */
export async function listReleases(releasesDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(releasesDir);
  } catch (err) {
    throw new RelupError(
      'BAD_OPTIONS',
      `cannot list releases in ${releasesDir}: ${(err as Error).message}`,
      { releasesDir },
      { cause: err },
    );
  }
  const found = await Promise.all(
    names.map(async (name) => {
      if (semver.valid(name) === null) return undefined;
      const isFile = await stat(join(releasesDir, name, MANIFEST_FILE)).then(
        (s) => s.isFile(),
        () => false,
      );
      return isFile ? name : undefined;
    }),
  );
  return found.filter((v): v is string => v !== undefined).sort(semver.compare);
}

function badRelease(file: string, found: readonly Problem[]): RelupError {
  const problems = found.map((p) => ({ ...p, file }));
  return new RelupError('BAD_RELEASE', `invalid release manifest: ${renderProblems(problems)}`, {
    file,
    problems,
  });
}

// Runs on the raw JSON, not the zod result, so these problems are reported together with the
// field problems instead of only once those are fixed; each check skips what is malformed.
function crossFieldProblems(raw: unknown, folder: string): Problem[] {
  if (!isRecord(raw)) return [];
  const problems: Problem[] = [];
  if (typeof raw.version === 'string' && semver.valid(folder) !== null && folder !== raw.version)
    problems.push({
      path: 'version',
      message: `"${raw.version}" does not match its folder name "${folder}"`,
    });
  const files = isRecord(raw.files) ? raw.files : undefined;
  const services = Array.isArray(raw.services) ? raw.services : [];
  const seen = new Set<unknown>();
  services.forEach((s, i) => {
    if (!isRecord(s)) return;
    if (typeof s.name === 'string') {
      if (seen.has(s.name))
        problems.push({ path: `services[${i}].name`, message: `"${s.name}" is declared twice` });
      seen.add(s.name);
    }
    if (isRecord(s.redundant) && s.redundant.primary === s.redundant.backup)
      problems.push({ path: `services[${i}].redundant`, message: 'primary and backup must be two nodes' });
    // The timing the pair will run with is checked here, so a bad one never reaches a node's boot.
    if (isRecord(s.redundant) && isRecord(s.redundant.timing))
      for (const message of leaseTimingProblems(s.redundant.timing as Partial<LeaseTiming>))
        problems.push({ path: `services[${i}].redundant.timing`, message });
    if (files && typeof s.module === 'string' && !Object.hasOwn(files, s.module))
      problems.push({ path: `services[${i}].module`, message: `"${s.module}" is not listed in files` });
    if (Array.isArray(s.requires))
      s.requires.forEach((r, j) => {
        if (typeof r !== 'string') return;
        // A required service the release lacks is a dependency error the node reports by
        // booting into maintenance (the operator can disable the service), not a bad manifest.
        if (r === s.name)
          problems.push({
            path: `services[${i}].requires[${j}]`,
            message: 'a service cannot require itself',
          });
      });
  });
  return problems;
}

async function moduleFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules')
      out.push(...(await moduleFiles(root, full)));
    else if (entry.isFile() && /\.(ts|js|mjs)$/.test(entry.name))
      out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
