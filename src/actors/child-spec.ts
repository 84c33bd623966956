import { RelupError } from '../errors.ts';
import type { Child, ExitReason } from './child.ts';

/** When a child is restarted: always, only after a crash, or never (OTP restart types). */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** How long a graceful stop may take in ms before a brutal kill; `brutal_kill` skips the graceful stop. */
export type ShutdownPolicy = number | 'brutal_kill' | 'infinity';

/** Whether a child is a worker or a supervisor (which changes its default shutdown). */
export type ChildType = 'worker' | 'supervisor';

/** How a supervisor starts, restarts and stops one child. */
export interface ChildSpec {
  id: string;
  start: () => Child | Promise<Child>;
  restart?: RestartType;
  shutdown?: ShutdownPolicy;
  type?: ChildType;
  onStart?: (child: Child) => void | Promise<void>;
  onShutdown?: (reason: ExitReason) => void | Promise<void>;
}

/** A validated {@link ChildSpec} with its defaults filled in. */
export interface ResolvedChildSpec extends ChildSpec {
  restart: RestartType;
  shutdown: ShutdownPolicy;
  type: ChildType;
}

const RESTART_TYPES: readonly string[] = ['permanent', 'transient', 'temporary'];
const CHILD_TYPES: readonly string[] = ['worker', 'supervisor'];
/** OTP's defaults: a worker gets 5 s to stop, a supervisor as long as its own children need. */
const DEFAULT_WORKER_SHUTDOWN = 5000;

function badSpec(id: unknown, field: string, expected: string, value: unknown): RelupError {
  const who = typeof id === 'string' && id !== '' ? `child spec "${id}"` : 'child spec';
  return new RelupError('BAD_CHILD_SPEC', `${who}: ${field} must be ${expected} (got ${show(value)})`, {
    id: typeof id === 'string' ? id : undefined,
    field,
  });
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function isShutdown(value: unknown): value is ShutdownPolicy {
  if (value === 'brutal_kill' || value === 'infinity') return true;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Validates a child spec and fills in its defaults; throws BAD_CHILD_SPEC naming the id and field. */
export function resolveChildSpec(spec: unknown): ResolvedChildSpec {
  if (typeof spec !== 'object' || spec === null) throw badSpec(undefined, 'spec', 'an object', spec);
  const s = spec as Record<string, unknown>;
  const id = s.id;
  if (typeof id !== 'string' || id === '') throw badSpec(id, 'id', 'a non-empty string', id);
  if (typeof s.start !== 'function') throw badSpec(id, 'start', 'a function', s.start);
  const restart = s.restart ?? 'permanent';
  if (typeof restart !== 'string' || !RESTART_TYPES.includes(restart)) {
    throw badSpec(id, 'restart', 'permanent, transient or temporary', restart);
  }
  const type = s.type ?? 'worker';
  if (typeof type !== 'string' || !CHILD_TYPES.includes(type)) {
    throw badSpec(id, 'type', 'worker or supervisor', type);
  }
  const shutdown = s.shutdown ?? (type === 'supervisor' ? 'infinity' : DEFAULT_WORKER_SHUTDOWN);
  if (!isShutdown(shutdown)) {
    throw badSpec(id, 'shutdown', "a number of ms >= 0, 'brutal_kill' or 'infinity'", shutdown);
  }
  for (const hook of ['onStart', 'onShutdown'] as const) {
    if (s[hook] !== undefined && typeof s[hook] !== 'function')
      throw badSpec(id, hook, 'a function', s[hook]);
  }
  return {
    ...(spec as ChildSpec),
    restart: restart as RestartType,
    shutdown,
    type: type as ChildType,
  };
}
