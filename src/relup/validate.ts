import type { z } from 'zod';
import { formatPath, type Problem } from '../problems.ts';
import { staysInRelease } from '../release/path-inside.ts';
import type { Instruction } from './instruction.ts';
import type { ParsedRelup } from './parse.ts';
import { badRelup } from './problems.ts';
import type { Registry } from './registry.ts';
import { findService, type ReleaseInfo, scriptRelease } from './release-info.ts';
import { addSchema, applySchema, relupFileSchema, removeSchema, stepSchema, updateSchema } from './schema.ts';
import type { Entry, RelupSpec } from './spec.ts';
import { makeStep } from './step.ts';
import { isRecord } from './step-args.ts';

/** The releases and instructions a relup file is checked against. */
export interface ValidateContext {
  registry: Registry;
  from: ReleaseInfo;
  to: ReleaseInfo;
}

type Path = readonly PropertyKey[];
type Report = (path: Path, reason: string) => void;

const HIGH_LEVEL = ['update', 'add', 'remove', 'apply'] as const;
const PARSE_OPTIONS = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'missing field' : undefined),
};

/**
 * Stage 2: checks a parsed relup file against the two release manifests and the registry, and
 * reports every problem at once (BAD_RELUP with `details.problems`), each with its path and line.
 */
export function validateRelup(parsed: ParsedRelup, ctx: ValidateContext): RelupSpec {
  const problems: Problem[] = [];
  const report: Report = (path, reason) => {
    const line = parsed.lineOf(path);
    problems.push({
      file: parsed.file,
      path: formatPath(path),
      message: reason,
      ...(line === undefined ? {} : { line }),
    });
  };
  const top = relupFileSchema.safeParse(parsed.data, PARSE_OPTIONS);
  if (!top.success) reportIssues(report, top.error.issues, []);
  const raw = isRecord(parsed.data) ? parsed.data : {};
  checkHeader(raw, ctx, report);
  const up = Array.isArray(raw['up']) ? validateEntries(raw['up'], ['up'], ctx, report) : [];
  const down = Array.isArray(raw['down'])
    ? validateEntries(raw['down'], ['down'], { ...ctx, from: ctx.to, to: ctx.from }, report)
    : 'auto';
  const hooks = validateHooks(raw['hooks'], ctx, report);
  if (!top.success || problems.length > 0) throw badRelup(problems);
  const { release, from, to, options } = top.data;
  return {
    file: parsed.file,
    release,
    from,
    to,
    up,
    down,
    hooks,
    options: {
      suspendTimeoutMs: options.suspendTimeout,
      modifications: options.modifications,
      pairs: options.pairs,
    },
  };
}

/**
 * `hooks.before` / `hooks.after`: low-level steps around the upgrade (the import-hook pattern:
 * notify, grace, disconnect, maintenance on … maintenance off), run in both directions.
 */
function validateHooks(raw: unknown, ctx: ValidateContext, report: Report): RelupSpec['hooks'] {
  const hooks: RelupSpec['hooks'] = { before: [], after: [] };
  if (!isRecord(raw)) return hooks;
  for (const when of ['before', 'after'] as const) {
    const list = raw[when];
    if (!Array.isArray(list)) continue;
    for (const entry of validateEntries(list, ['hooks', when], ctx, report)) {
      if (entry.kind === 'step') hooks[when].push(entry);
      else
        report(
          ['hooks', when],
          `${entry.origin}: hooks hold low-level instructions only (e.g. notify_clients, grace)`,
        );
    }
  }
  return hooks;
}

function reportIssues(report: Report, issues: readonly z.core.$ZodIssue[], prefix: Path): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys')
      for (const key of issue.keys) report([...path, key], 'unknown field');
    else report(path, issue.message);
  }
}

/** Release name, versions and modification names: what the schema cannot know. */
function checkHeader(raw: Record<string, unknown>, ctx: ValidateContext, report: Report): void {
  const { release, from, to, options } = raw;
  if (typeof release === 'string' && (release !== ctx.from.name || release !== ctx.to.name))
    report(
      ['release'],
      `release "${release}" does not match the manifests (${ctx.from.name}, ${ctx.to.name})`,
    );
  if (typeof from === 'string' && from !== ctx.from.version)
    report(['from'], `version mismatch: ${from} is not the from release's version ${ctx.from.version}`);
  if (typeof to === 'string' && to !== ctx.to.version)
    report(['to'], `version mismatch: ${to} is not the to release's version ${ctx.to.version}`);
  const modifications = isRecord(options) ? options['modifications'] : undefined;
  if (!Array.isArray(modifications)) return;
  modifications.forEach((name, i) => {
    if (typeof name === 'string' && !ctx.registry.getModification(name))
      report(
        ['options', 'modifications', i],
        `unknown modification "${name}" (known: ${ctx.registry.modificationNames().join(', ')})`,
      );
  });
}

function validateEntries(
  list: readonly unknown[],
  section: Path,
  leg: ValidateContext,
  report: Report,
): Entry[] {
  const changedBy = new Map<string, string>();
  const entries: Entry[] = [];
  list.forEach((raw, i) => {
    const path = [...section, i];
    const entry = validateEntry(raw, path, leg, report);
    if (entry === undefined) return;
    checkScripts(entry, path, leg, report);
    if (entry.kind === 'update' || entry.kind === 'add' || entry.kind === 'remove') {
      const earlier = changedBy.get(entry.service);
      if (earlier !== undefined)
        report([...path, entry.kind], `${entry.service} is already changed by ${earlier}`);
      else changedBy.set(entry.service, entry.origin);
    }
    entries.push(entry);
  });
  return entries;
}

/**
 * The modules of an apply (its `module` and `down`) must be files of the release that ships the
 * scripts, named inside its folder: the node would only find out after the point of no return.
 */
function checkScripts(entry: Entry, path: Path, leg: ValidateContext, report: Report): void {
  const scripts =
    entry.kind === 'apply'
      ? { at: [...path, 'apply'], module: entry.module, down: entry.down }
      : entry.kind === 'step' && entry.op === 'apply'
        ? { at: [...path, 'args'], module: entry.args['module'], down: entry.args['down'] }
        : undefined;
  if (scripts === undefined) return;
  const release = scriptRelease(leg.from, leg.to);
  for (const field of ['module', 'down'] as const) {
    const file = scripts[field];
    if (typeof file !== 'string') continue;
    if (!staysInRelease(file)) report([...scripts.at, field], `${field} "${file}" leaves the release folder`);
    else if (!Object.hasOwn(release.files, file))
      report(
        [...scripts.at, field],
        `${field} "${file}" is not a file of release ${release.version}, which ships the migration scripts`,
      );
  }
}

function validateEntry(raw: unknown, path: Path, leg: ValidateContext, report: Report): Entry | undefined {
  if (!isRecord(raw)) {
    report(path, 'an entry must be a mapping, e.g. "- update: chat"');
    return undefined;
  }
  const origin = formatPath(path);
  if ('op' in raw) {
    const parsed = parseWith(stepSchema, raw, path, report);
    if (parsed === undefined) return undefined;
    const def = leg.registry.getInstruction(parsed.op);
    if (def === undefined) {
      report([...path, 'op'], unknownInstruction(parsed.op, leg.registry));
      return undefined;
    }
    return checkStep(def, { kind: 'step', ...parsed, origin }, path, undefined, leg, report);
  }
  if ('update' in raw) {
    const parsed = parseWith(updateSchema, raw, path, report);
    return (
      parsed &&
      changeEntry({ kind: 'update', service: parsed.update, extra: parsed.extra, origin }, path, leg, report)
    );
  }
  if ('add' in raw) {
    const parsed = parseWith(addSchema, raw, path, report);
    return parsed && changeEntry({ kind: 'add', service: parsed.add, origin }, path, leg, report);
  }
  if ('remove' in raw) {
    const parsed = parseWith(removeSchema, raw, path, report);
    return parsed && changeEntry({ kind: 'remove', service: parsed.remove, origin }, path, leg, report);
  }
  if ('apply' in raw) {
    const parsed = parseWith(applySchema, raw, path, report);
    return parsed && { kind: 'apply', ...parsed.apply, origin };
  }
  return shorthand(raw, path, leg, report);
}

/** `- <instruction>: value`: the value is the target, the instruction's shorthandArg, or the args. */
function shorthand(
  raw: Record<string, unknown>,
  path: Path,
  leg: ValidateContext,
  report: Report,
): Entry | undefined {
  const keys = Object.keys(raw);
  const [op] = keys;
  const def = op === undefined ? undefined : leg.registry.getInstruction(op);
  if (op === undefined || def === undefined || keys.length > 1) {
    const unknown = keys.find((k) => !leg.registry.getInstruction(k));
    if (unknown !== undefined) report([...path, unknown], unknownInstruction(unknown, leg.registry));
    else report(path, `one instruction per entry; found ${keys.join(', ') || 'none'}`);
    return undefined;
  }
  const value = raw[op];
  const origin = formatPath(path);
  if (isRecord(value))
    return checkStep(def, { kind: 'step', op, args: value, origin }, path, op, leg, report);
  if (def.shorthandArg !== undefined)
    return checkStep(
      def,
      { kind: 'step', op, args: { [def.shorthandArg]: value }, origin },
      path,
      op,
      leg,
      report,
    );
  if (value === null) return checkStep(def, { kind: 'step', op, args: {}, origin }, path, op, leg, report);
  if (typeof value === 'string')
    return checkStep(def, { kind: 'step', op, target: value, args: {}, origin }, path, op, leg, report);
  report([...path, op], `expected a service name or a mapping of arguments for ${op}`);
  return undefined;
}

function checkStep(
  def: Instruction,
  entry: Extract<Entry, { kind: 'step' }>,
  path: Path,
  field: string | undefined,
  leg: ValidateContext,
  report: Report,
): Entry | undefined {
  const problems = def.validate(makeStep(entry));
  for (const p of problems) report(field === undefined ? path : [...path, field], p);
  const target = entry.target;
  const known = target === undefined || findService(leg.from, target) || findService(leg.to, target);
  if (!known) report([...path, field ?? 'target'], unknownService(target, leg));
  return problems.length === 0 && known ? entry : undefined;
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, path: Path, report: Report): T | undefined {
  const result = schema.safeParse(raw, PARSE_OPTIONS);
  if (result.success) return result.data;
  reportIssues(report, result.error.issues, path);
  return undefined;
}

type ChangeEntry = Extract<Entry, { kind: 'update' | 'add' | 'remove' }>;

/** A service change must fit the releases: update needs both, add only the new, remove only the old. */
function changeEntry(
  entry: ChangeEntry,
  path: Path,
  leg: ValidateContext,
  report: Report,
): Entry | undefined {
  const problem = changeProblem(entry, leg);
  if (problem === undefined) return entry;
  report([...path, entry.kind], problem);
  return undefined;
}

function changeProblem({ kind, service }: ChangeEntry, leg: ValidateContext): string | undefined {
  const inFrom = findService(leg.from, service) !== undefined;
  const inTo = findService(leg.to, service) !== undefined;
  if (!inFrom && !inTo) return unknownService(service, leg);
  if (kind === 'update' && !inFrom) return `${service} is not in release ${leg.from.version}; use add`;
  if (kind === 'update' && !inTo) return `${service} is not in release ${leg.to.version}; use remove`;
  if (kind === 'add' && inFrom) return `${service} is already in release ${leg.from.version}; use update`;
  if (kind === 'remove' && inTo) return `${service} is still in release ${leg.to.version}; use update`;
  return undefined;
}

const unknownService = (service: string, leg: ValidateContext) =>
  `unknown service "${service}" (in neither release ${leg.from.version} nor ${leg.to.version})`;

const unknownInstruction = (name: string, registry: Registry) =>
  `unknown instruction "${name}" (known: ${[...new Set([...HIGH_LEVEL, ...registry.instructionNames()])].join(', ')})`;
