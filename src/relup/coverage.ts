import { RelupError } from '../errors.ts';
import { allSteps, type PlanParts } from './plan-parts.ts';
import { findService } from './release-info.ts';
import type { StageContext } from './stage-context.ts';

/** A service the plan leaves out although the releases differ in it. */
export interface UncoveredChange {
  service: string;
  reason: string;
}

/**
 * Stage 6b: every difference between the two manifests must be handled (OTP lets a changed
 * module slip through a hand-written relup). A service whose version, module path or module
 * hash changed needs a `load` of it, a new one a `start_service`, a gone one a `stop_service`.
 */
export function checkCoverage(parts: PlanParts, ctx: StageContext): void {
  const steps = allSteps(parts);
  const has = (op: string, service: string) => steps.some((s) => s.op === op && s.target === service);
  const { from, to } = ctx;
  const uncovered: UncoveredChange[] = [];
  for (const service of to.services) {
    const old = findService(from, service.name);
    if (old === undefined) {
      if (!has('start_service', service.name))
        uncovered.push({ service: service.name, reason: `new in ${to.version} but never started (add it)` });
      continue;
    }
    const changes = [
      ...(old.version === service.version ? [] : [`version ${old.version} → ${service.version}`]),
      ...(old.module === service.module ? [] : [`module ${old.module} → ${service.module}`]),
      ...(from.files[old.module] === to.files[service.module]
        ? []
        : [`module ${service.module} changed (sha256)`]),
    ];
    if (changes.length > 0 && !has('load', service.name))
      uncovered.push({ service: service.name, reason: `${changes.join(', ')} but never loaded (update it)` });
  }
  for (const service of from.services)
    if (findService(to, service.name) === undefined && !has('stop_service', service.name))
      uncovered.push({
        service: service.name,
        reason: `gone in ${to.version} but never stopped (remove it)`,
      });
  if (uncovered.length > 0)
    throw new RelupError(
      'UNCOVERED_CHANGE',
      `${ctx.direction} plan leaves changes uncovered: ${uncovered.map((u) => `${u.service}: ${u.reason}`).join('; ')}`,
      { services: uncovered.map((u) => u.service), uncovered },
    );
}
