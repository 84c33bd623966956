import { type AnyActorLogic, type AnyActorScope, createActor, type EventObject, type Snapshot } from 'xstate';
import { fastTransition } from './fast-transition.ts';

/** A deferred side effect produced by a pure transition (xstate's executable action). */
export interface ExecutableAction {
  type: string;
  info: unknown;
  params: unknown;
  exec: ((info: unknown, params: unknown) => unknown) | undefined;
}

interface SharedScope {
  scope: AnyActorScope;
  actions: ExecutableAction[];
}

const scopes = new WeakMap<AnyActorLogic, SharedScope>();

/**
 * One inert actor scope per logic, shared by every actor of that logic. xstate's own
 * `transition()` builds a whole actor per call (measured here: 83 k transitions/s against
 * 460 k/s with a shared scope); transitions are synchronous, so one buffer per logic is safe.
 */
function scopeOf(logic: AnyActorLogic): SharedScope {
  let shared = scopes.get(logic);
  if (shared) return shared;
  const self = createActor(logic);
  const actions: ExecutableAction[] = [];
  const scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    // Machines emit through the `xstate.emit` action; other logic (fromTransition) calls
    // `scope.emit` directly, so that becomes the same deferred effect instead of being dropped.
    emit: (event: EventObject) => {
      actions.push({ type: 'xstate.emit', info: undefined, params: { event }, exec: undefined });
    },
    actionExecutor: (action: ExecutableAction) => {
      actions.push(action);
    },
  } as unknown as AnyActorScope;
  shared = { scope, actions };
  scopes.set(logic, shared);
  return shared;
}

function takeActions(shared: SharedScope): ExecutableAction[] {
  if (shared.actions.length === 0) return EMPTY;
  return shared.actions.splice(0);
}

const EMPTY: ExecutableAction[] = [];

/**
 * Pure transition: the next snapshot and the side effects to run, nothing executed. A machine
 * message that keeps its state and only assigns or emits takes the fast path (same result,
 * without the macrostep); `fast` false forces xstate's own transition (the differential test).
 */
export function transitionLogic(
  logic: AnyActorLogic,
  snapshot: Snapshot<unknown>,
  event: EventObject,
  fast = true,
): [Snapshot<unknown>, ExecutableAction[]] {
  const shared = scopeOf(logic);
  try {
    let next = fast ? fastTransition(logic, snapshot, event, shared.scope) : undefined;
    if (next === undefined) {
      // What a refused fast path collected is not an effect of the message.
      shared.actions.length = 0;
      next = logic.transition(snapshot, event, shared.scope) as Snapshot<unknown>;
    }
    return [next, takeActions(shared)];
  } finally {
    shared.actions.length = 0;
  }
}

/** The initial snapshot and its entry effects. */
export function initialLogic(logic: AnyActorLogic, input: unknown): [Snapshot<unknown>, ExecutableAction[]] {
  const shared = scopeOf(logic);
  try {
    const snap = logic.getInitialSnapshot(shared.scope, input) as Snapshot<unknown>;
    return [snap, takeActions(shared)];
  } finally {
    shared.actions.length = 0;
  }
}

/** The JSON-safe form of a snapshot (what a swap persists and KV stores). */
export function persistLogic(logic: AnyActorLogic, snapshot: Snapshot<unknown>): unknown {
  return logic.getPersistedSnapshot ? logic.getPersistedSnapshot(snapshot) : snapshot;
}

/** Restores a persisted snapshot into logic; xstate marks a bad restore with `status: 'error'`. */
export function restoreLogic(logic: AnyActorLogic, persisted: unknown): Snapshot<unknown> {
  const shared = scopeOf(logic);
  const restored = logic.restoreSnapshot
    ? logic.restoreSnapshot(persisted as Snapshot<unknown>, shared.scope)
    : (persisted as Snapshot<unknown>);
  return restored as Snapshot<unknown>;
}

/**
 * Delayed transitions (`after`) of the active states of a machine snapshot: xstate does not
 * restore their timers, so the host re-arms them after a restore.
 */
export function delayedEventsOf(
  logic: AnyActorLogic,
  snapshot: Snapshot<unknown>,
): { id: string; delay: number; event: EventObject }[] {
  const nodes = (snapshot as { _nodes?: { after?: { eventType: string; delay: unknown }[] }[] })._nodes;
  if (!nodes) return [];
  const delays = (logic as { implementations?: { delays?: Record<string, unknown> } }).implementations
    ?.delays;
  const out: { id: string; delay: number; event: EventObject }[] = [];
  const ctx = { context: (snapshot as { context?: unknown }).context, event: { type: 'xstate.restore' } };
  for (const node of nodes) {
    for (const t of node.after ?? []) {
      let delay = t.delay;
      if (typeof delay === 'string') delay = delays?.[delay];
      if (typeof delay === 'function') delay = (delay as (a: unknown) => unknown)(ctx);
      if (typeof delay === 'number') out.push({ id: t.eventType, delay, event: { type: t.eventType } });
    }
  }
  return out;
}
