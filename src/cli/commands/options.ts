import { InvalidArgumentError, Option } from 'commander';
import semver from 'semver';
import { isSubjectToken, SUBJECT_TOKEN_RULE } from '../../nats/subjects.ts';
import { parseDuration } from '../../relup/duration.ts';

/** Parses a node id: a subject-safe token. */
export function nodeId(value: string): string {
  if (!isSubjectToken(value)) throw new InvalidArgumentError(`must be ${SUBJECT_TOKEN_RULE}`);
  return value;
}

/** Parses a release version: semver. */
export function version(value: string): string {
  if (semver.valid(value) === null) throw new InvalidArgumentError('must be a semver version, e.g. 1.1.0');
  return value;
}

/** Parses a duration: `250ms`, `5s`, `2m`, or milliseconds. */
export function duration(value: string): number {
  const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('must be a duration such as 500ms, 5s, 2m or 3000');
  return ms;
}

/** `--node <id>`: the one node to talk to. */
export const nodeOption = (what: string) => new Option('--node <id>', what).argParser(nodeId);

/** `--all`: every node discovery finds (excludes --node). */
export const allOption = () => new Option('--all', 'every node that answers discovery').conflicts('node');

/** `--to <version>`: the release to move to. */
export const toOption = () =>
  new Option('--to <version>', 'target release').argParser(version).makeOptionMandatory();

/** `--mode rolling|barrier` of cluster-wide upgrades. */
export const modeOption = () =>
  new Option(
    '--mode <mode>',
    'with --all: rolling (node by node) or barrier (all pass the point of no return together)',
  )
    .choices(['rolling', 'barrier'])
    .default('rolling');
