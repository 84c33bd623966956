import { RelupError } from '../errors.ts';
import { type ChildSpec, type ResolvedChildSpec, resolveChildSpec } from './child-spec.ts';

/** Which children a crash takes down with it: itself, all, or itself and those started after it. */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** The subset of a pino logger a supervisor writes to. */
export interface SupervisorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** How to start a supervisor; `childTemplate` makes `startChild(args)` start children from args. */
export interface SupervisorOptions<A = never> {
  name?: string;
  strategy: Strategy;
  /** At most this many restarts in `period` ms (default 1); one more and the supervisor gives up. */
  intensity?: number;
  /** The restart window in ms (default 5000). */
  period?: number;
  children?: ChildSpec[];
  childTemplate?: (args: A) => ChildSpec;
  logger?: SupervisorLogger;
}

/** {@link SupervisorOptions} validated, with defaults filled in. */
export interface ResolvedSupervisorOptions<A> {
  name: string;
  strategy: Strategy;
  intensity: number;
  period: number;
  children: ResolvedChildSpec[];
  childTemplate: ((args: A) => ChildSpec) | undefined;
  logger: SupervisorLogger;
}

const STRATEGIES: readonly string[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
const silent: SupervisorLogger = { info() {}, warn() {}, error() {} };

function bad(name: string, field: string, expected: string): RelupError {
  return new RelupError('BAD_CHILD_SPEC', `supervisor "${name}": ${field} must be ${expected}`, {
    supervisor: name,
    field,
  });
}

function isLogger(value: unknown): value is SupervisorLogger {
  const l = value as Record<string, unknown> | null;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.info === 'function' &&
    typeof l.warn === 'function' &&
    typeof l.error === 'function'
  );
}

/** The DUPLICATE_CHILD error for a child id a supervisor already has. */
export function duplicateChild(supervisor: string, id: string): RelupError {
  return new RelupError('DUPLICATE_CHILD', `supervisor "${supervisor}": a child "${id}" already exists`, {
    supervisor,
    id,
  });
}

/**
 * Validates supervisor options and every child spec (BAD_CHILD_SPEC naming the field, DUPLICATE_CHILD);
 * the supervisor flags count as its spec, as in OTP.
 */
export function resolveSupervisorOptions<A>(options: SupervisorOptions<A>): ResolvedSupervisorOptions<A> {
  if (typeof options !== 'object' || options === null) throw bad('?', 'options', 'an object');
  const name = options.name ?? 'supervisor';
  if (typeof name !== 'string' || name === '') throw bad('?', 'name', 'a non-empty string');
  if (typeof options.strategy !== 'string' || !STRATEGIES.includes(options.strategy)) {
    throw bad(name, 'strategy', `one of ${STRATEGIES.join(', ')} (got ${String(options.strategy)})`);
  }
  const intensity = options.intensity ?? 1;
  if (!Number.isInteger(intensity) || intensity < 0) throw bad(name, 'intensity', 'an integer >= 0');
  const period = options.period ?? 5000;
  if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0) {
    throw bad(name, 'period', 'a number of ms > 0');
  }
  if (options.childTemplate !== undefined && typeof options.childTemplate !== 'function') {
    throw bad(name, 'childTemplate', 'a function');
  }
  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw bad(name, 'logger', 'an object with info, warn and error functions');
  }
  const specs = options.children ?? [];
  if (!Array.isArray(specs)) throw bad(name, 'children', 'an array of child specs');
  const ids = new Set<string>();
  const children = specs.map((spec) => {
    const resolved = resolveChildSpec(spec);
    if (ids.has(resolved.id)) throw duplicateChild(name, resolved.id);
    ids.add(resolved.id);
    return resolved;
  });
  return {
    name,
    strategy: options.strategy,
    intensity,
    period,
    children,
    childTemplate: options.childTemplate,
    logger: options.logger ?? silent,
  };
}
