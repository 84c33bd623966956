import type { ObservedEvent } from '../control/control-client.ts';

/** What the progress display knows about one node's upgrade, folded from its events. */
export interface NodeProgress {
  node: string;
  /** The upgrade's state, as its last state event said. */
  state?: string;
  /** Steps completed (an undone step counts back down). */
  done: number;
  /** Steps in the plan, when the node's events say so. */
  total?: number;
  /** The step running now. */
  current?: string;
  /** The node's channels before the upgrade, from its status. */
  channels?: number;
  /** Channels suspended now. */
  suspended: number;
  /** The failing step and its error code. */
  failed?: string;
  startedAt?: number;
  endedAt?: number;
}

const ENDED = new Set(['done', 'aborted', 'rolled_back', 'failed']);

/** A node's progress before any event. */
export function initialProgress(node: string, channels?: number): NodeProgress {
  return { node, done: 0, suspended: 0, ...(channels !== undefined && { channels }) };
}

/** Folds one event into a node's progress (pure: returns a new object). */
export function applyEvent(p: NodeProgress, e: ObservedEvent, now = Date.now()): NodeProgress {
  const next: NodeProgress = { ...p, startedAt: p.startedAt ?? now };
  // A control server may announce the plan's size on any event; the UpgradeEvent itself has none.
  const total = typeof e.total === 'number' ? e.total : typeof e.steps === 'number' ? e.steps : undefined;
  if (total !== undefined) next.total = total;
  const step = typeof e.step === 'string' ? e.step : undefined;
  switch (e.type) {
    case 'step_started':
      next.current = step;
      break;
    case 'step_completed':
      next.done = p.done + 1;
      next.current = undefined;
      if (step === 'suspend_channels') next.suspended = suspendedCount(e, p.channels);
      if (step === 'resume_channels') next.suspended = 0;
      break;
    case 'step_failed':
      next.current = undefined;
      next.failed = `${step ?? '?'}: ${e.error?.code ?? 'failed'}`;
      break;
    case 'step_undone':
      next.done = Math.max(0, p.done - 1);
      if (step === 'suspend_channels') next.suspended = 0;
      break;
    case 'state':
      if (typeof e.state === 'string') next.state = e.state;
      if (e.state && ENDED.has(e.state)) {
        next.endedAt = now;
        next.current = undefined;
      }
      break;
  }
  return next;
}

/** The bulk count of a suspend_channels step when the event carries it, else every channel. */
function suspendedCount(e: ObservedEvent, channels: number | undefined): number {
  const bulk = e.bulk as { count?: unknown } | undefined;
  if (bulk && typeof bulk.count === 'number') return bulk.count;
  return channels ?? 0;
}

/** Seconds since the upgrade's first event, to one decimal. */
export function elapsed(p: NodeProgress, now = Date.now()): string {
  if (p.startedAt === undefined) return '0.0s';
  return `${(((p.endedAt ?? now) - p.startedAt) / 1000).toFixed(1)}s`;
}
