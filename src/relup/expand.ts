import { RelupError } from '../errors.ts';
import type { Step } from './instruction.ts';
import type { PlanParts } from './plan-parts.ts';
import { findService, type ReleaseInfo } from './release-info.ts';
import type { Entry } from './spec.ts';
import type { StageContext } from './stage-context.ts';
import { makeStep, PONR_OP } from './step.ts';

/** An entry's steps: `prepare` always stands before the point of no return, `main` where the entry is. */
interface Expansion {
  prepare: Step[];
  main: Step[];
}

/**
 * Stage 3: high-level entries → low-level steps, with the point of no return inserted once.
 * High-level entries put their preparation before it and their effects after it. A low-level
 * entry stays on its side of the point of no return as the file places it: an explicit
 * `point_of_no_return` entry, or else the first entry with effects.
 */
export function expandEntries(entries: readonly Entry[], ctx: StageContext): PlanParts {
  const expansions = entries.map((entry) => expandEntry(entry, ctx));
  const explicit = entries.findIndex((e) => e.kind === 'step' && e.op === PONR_OP);
  const firstEffect = entries.findIndex((e, i) => e.kind !== 'step' || hasEffects(expansions[i], ctx));
  const ponrAt = explicit >= 0 ? explicit : firstEffect >= 0 ? firstEffect : entries.length;
  const ponr =
    explicit >= 0 ? expansions[explicit]?.main[0] : makeStep({ op: PONR_OP, origin: ctx.direction });
  const before: Step[] = [];
  const after: Step[] = [];
  entries.forEach((entry, i) => {
    const expansion = expansions[i];
    if (expansion === undefined || i === explicit) return;
    before.push(...expansion.prepare);
    (entry.kind !== 'step' || i >= ponrAt ? after : before).push(...expansion.main);
  });
  return { before, after: ponr === undefined ? after : [ponr, ...after] };
}

function hasEffects(expansion: Expansion | undefined, ctx: StageContext): boolean {
  return expansion?.main.some((s) => ctx.registry.getInstruction(s.op)?.effects === 'node') ?? false;
}

/** Versions in steps are the service's own versions (as in its definition), not the release's. */
function expandEntry(entry: Entry, ctx: StageContext): Expansion {
  const { origin } = entry;
  const timeoutMs = ctx.options.suspendTimeoutMs;
  switch (entry.kind) {
    case 'update': {
      const target = entry.service;
      const from = serviceVersion(ctx.from, target);
      const to = serviceVersion(ctx.to, target);
      const codeChange = { direction: ctx.direction, from, to, extra: entry.extra };
      return {
        prepare: [makeStep({ op: 'load_object_code', target, args: { version: to }, origin })],
        main: [
          makeStep({ op: 'suspend', target, args: { timeoutMs }, origin }),
          makeStep({ op: 'load', target, args: { version: to, from }, origin }),
          makeStep({ op: 'code_change', target, args: codeChange, origin }),
          makeStep({ op: 'resume', target, args: { timeoutMs }, origin }),
        ],
      };
    }
    case 'add': {
      const target = entry.service;
      const args = { version: serviceVersion(ctx.to, target) };
      return {
        prepare: [makeStep({ op: 'load_object_code', target, args, origin })],
        main: [makeStep({ op: 'start_service', target, args, origin })],
      };
    }
    case 'remove': {
      const target = entry.service;
      const args = { version: serviceVersion(ctx.from, target) };
      return { prepare: [], main: [makeStep({ op: 'stop_service', target, args, origin })] };
    }
    case 'apply': {
      const { module, priority, args, down } = entry;
      const stepArgs = { module, priority, args, ...(down === undefined ? {} : { down }) };
      return { prepare: [], main: [makeStep({ op: 'apply', key: module, args: stepArgs, origin })] };
    }
    case 'step': {
      const { op, target, args } = entry;
      return { prepare: [], main: [makeStep({ op, target, args, origin })] };
    }
  }
}

/** The version of a service in a release; validation made sure the service is there. */
function serviceVersion(release: ReleaseInfo, service: string): string {
  const found = findService(release, service);
  if (found === undefined)
    throw new RelupError('UNKNOWN_SERVICE', `${service} is not in release ${release.version}`, { service });
  return found.version;
}
