import type { AnyActorScope, AnyStateMachine, EventObject, Snapshot } from 'xstate';

/**
 * The machine transition for the common channel message, without the full macrostep: the
 * active states have transitions for the event that keep the state (no target), no guard can
 * choose among them, no eventless transition can follow, and their actions only assign, emit
 * or run plain functions. Everything else returns undefined and goes through xstate.
 *
 * For those messages the macrostep reduces to this: select the transitions (context-free
 * without guards, so computed once per configuration and event type), resolve their actions
 * in order against the running snapshot (with xstate's own `assign`/`emit` resolvers, so the
 * snapshot and the effects are what xstate makes), exit and enter nothing, and stop there.
 */

/** What a message of one event type does in one configuration: the resolved actions, in order. */
interface Plan {
  steps: Step[];
}

interface Step {
  /** What it resolves to: a built-in (`assign`/`emit`, has `resolve`), a plain function, or nothing. */
  resolved: BuiltinAction | ((...args: unknown[]) => unknown) | undefined;
  builtin: boolean;
  /** The executable action's type when it is not a built-in. */
  type: string;
  params: unknown;
}

interface BuiltinAction {
  type: string;
  resolve: (
    scope: AnyActorScope,
    snapshot: MachineSnapshot,
    args: unknown,
    params: unknown,
    action: unknown,
    extra: unknown,
  ) => [MachineSnapshot, unknown, unknown];
  execute?: (scope: AnyActorScope, params: unknown) => void;
}

interface StateNodeLike {
  id: string;
  transitions: Map<string, { guard?: unknown; target?: unknown[]; actions: unknown[] }[]>;
  always?: unknown[];
}

interface MachineSnapshot {
  status: string;
  machine: AnyStateMachine;
  context: unknown;
  _nodes: StateNodeLike[];
}

/**
 * Plans by event type, one table per configuration of a machine, shared by every actor in it:
 * found through the snapshot's `_nodes` array (kept by every snapshot an assign makes), and
 * the first time an array is seen, through the ids of its state nodes.
 */
type Plans = Map<string, Plan | null>;
const byNodes = new WeakMap<object, Plans>();
const byConfiguration = new WeakMap<object, Map<string, Plans>>();
/** Event types planned per configuration at most: types come from clients. */
const MAX_PLANS = 256;
const BUILTINS = new Set(['xstate.assign', 'xstate.emit']);
const EXTRA = { internalQueue: [], deferredActorIds: undefined };

/**
 * The next snapshot of a machine for a message the fast path can take, its effects passed to
 * `scope.actionExecutor` like xstate does; undefined when the message must go through xstate.
 */
export function fastTransition(
  logic: unknown,
  snapshot: Snapshot<unknown>,
  event: EventObject,
  scope: AnyActorScope,
): Snapshot<unknown> | undefined {
  const snap = snapshot as unknown as MachineSnapshot;
  const nodes = snap._nodes;
  // Only a machine's own snapshot: xstate resolves everything through `snapshot.machine`.
  if (nodes === undefined || snap.machine !== logic || snap.status !== 'active') return undefined;
  const type = event.type;
  const byEvent = byNodes.get(nodes) ?? plansOf(snap);
  let plan = byEvent.get(type);
  if (plan === undefined) {
    if (byEvent.size >= MAX_PLANS) return undefined;
    plan = planFor(snap, event);
    byEvent.set(type, plan);
  }
  if (plan === null) return undefined;
  let next = snap;
  try {
    for (const step of plan.steps) next = runStep(step, next, event, scope);
  } catch (err) {
    if (err !== SPAWNS) throw err;
    // An assignment that spawns changes the children: that message, and every later one of
    // this plan, goes through xstate (the effects collected so far are dropped by the caller).
    byEvent.set(type, null);
    return undefined;
  }
  return next as unknown as Snapshot<unknown>;
}

/** The plan table of the snapshot's configuration (see {@link byNodes}). */
function plansOf(snap: MachineSnapshot): Plans {
  let configurations = byConfiguration.get(snap.machine);
  if (configurations === undefined) {
    configurations = new Map();
    byConfiguration.set(snap.machine, configurations);
  }
  const key = snap._nodes
    .map((n) => n.id)
    .sort()
    .join(' ');
  let table = configurations.get(key);
  if (table === undefined) {
    table = new Map();
    configurations.set(key, table);
  }
  byNodes.set(snap._nodes, table);
  return table;
}

/** Resolves one action against the running snapshot, as xstate's action resolution does. */
function runStep(
  step: Step,
  snap: MachineSnapshot,
  event: EventObject,
  scope: AnyActorScope,
): MachineSnapshot {
  const args = { context: snap.context, event, self: scope.self, system: scope.system };
  const params =
    typeof step.params === 'function'
      ? (step.params as (a: unknown) => unknown)({ context: snap.context, event })
      : step.params;
  if (!step.builtin) {
    scope.actionExecutor({ type: step.type, info: args, params, exec: step.resolved } as never);
    return snap;
  }
  const builtin = step.resolved as BuiltinAction;
  if (builtin.type === 'xstate.assign' && snap.context) return assigned(snap, builtin, args, params, scope);
  const [next, resolvedParams] = builtin.resolve(scope, snap, args, params, builtin, EXTRA);
  if (builtin.execute)
    scope.actionExecutor({
      type: builtin.type,
      info: args,
      params: resolvedParams,
      exec: builtin.execute.bind(null, scope, resolvedParams),
    } as never);
  return next;
}

/**
 * xstate's assign, keeping what a state-keeping transition cannot change: the state value and
 * the tags are those of the configuration, so they are shared with the snapshot before instead
 * of being computed again (the same content xstate computes).
 */
function assigned(
  snap: MachineSnapshot,
  action: BuiltinAction,
  args: { context: unknown; event: EventObject; self: unknown; system: unknown },
  params: unknown,
  scope: AnyActorScope,
): MachineSnapshot {
  const assignment = (action as unknown as { assignment: unknown }).assignment;
  const assignArgs = {
    context: args.context,
    event: args.event,
    spawn: refuseSpawn,
    self: scope.self,
    system: scope.system,
  };
  let partial: Record<string, unknown> = {};
  if (typeof assignment === 'function') partial = assignment(assignArgs, params);
  else
    for (const key of Object.keys(assignment as object)) {
      const p = (assignment as Record<string, unknown>)[key];
      partial[key] = typeof p === 'function' ? p(assignArgs, params) : p;
    }
  const s = snap as unknown as Record<string, unknown>;
  // The key order of xstate's snapshots (createMachineSnapshot).
  return {
    status: s.status,
    output: s.output,
    error: s.error,
    machine: s.machine,
    context: Object.assign({}, snap.context, partial),
    _nodes: s._nodes,
    value: s.value,
    tags: s.tags,
    children: s.children,
    historyValue: s.historyValue,
    matches: s.matches,
    hasTag: s.hasTag,
    can: s.can,
    getMeta: s.getMeta,
    toJSON: s.toJSON,
  } as unknown as MachineSnapshot;
}

const SPAWNS = Symbol('spawns');
function refuseSpawn(): never {
  throw SPAWNS;
}

/** The plan of an event type in the snapshot's configuration, or null when xstate must decide. */
function planFor(snap: MachineSnapshot, event: EventObject): Plan | null {
  const type = event.type;
  const machine = snap.machine;
  if (typeof type !== 'string' || type.startsWith('xstate.')) return null;
  if (typeof machine?.getTransitionData !== 'function') return null;
  if ((machine.options?.maxIterations ?? Number.POSITIVE_INFINITY) < 1) return null;
  for (const node of snap._nodes) {
    // An eventless transition is looked for after every message.
    if (node.always && node.always.length > 0) return null;
    // A guard makes the choice depend on the context and the event: not context-free.
    for (const [descriptor, list] of node.transitions)
      if (mayMatch(descriptor, type)) for (const t of list) if (t.guard !== undefined) return null;
  }
  const transitions = machine.getTransitionData(snap as never, event) as unknown as {
    target?: unknown[];
    actions: unknown[];
  }[];
  const steps: Step[] = [];
  // The same transition selected twice (parallel regions falling back to a shared ancestor) runs once.
  for (const t of new Set(transitions)) {
    if (t.target !== undefined && t.target.length > 0) return null;
    for (const action of t.actions) {
      const step = stepOf(machine, action);
      if (!step) return null;
      steps.push(step);
    }
  }
  return { steps };
}

/** True when a transition's descriptor may match the event type (exact, `*`, or a `prefix.*` covering it). */
function mayMatch(descriptor: string, type: string): boolean {
  if (descriptor === type || descriptor === '*') return true;
  return descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1));
}

/** How one action resolves, as xstate resolves it; undefined for any built-in other than assign/emit. */
function stepOf(machine: AnyStateMachine, action: unknown): Step | undefined {
  const implementations = (machine.implementations?.actions ?? {}) as Record<string, unknown>;
  let resolved: unknown;
  let params: unknown;
  let type: string;
  if (typeof action === 'function') {
    resolved = action;
    type = (action as { name?: string }).name || '(anonymous)';
  } else if (typeof action === 'string') {
    resolved = implementations[action];
    type = action;
  } else if (
    action &&
    typeof action === 'object' &&
    typeof (action as { type?: unknown }).type === 'string'
  ) {
    type = (action as { type: string }).type;
    resolved = implementations[type];
    params = (action as { params?: unknown }).params;
  } else return undefined;
  if (resolved !== undefined && typeof resolved !== 'function') return undefined;
  const builtin = resolved !== undefined && 'resolve' in (resolved as object);
  if (builtin && !BUILTINS.has((resolved as unknown as BuiltinAction).type)) return undefined;
  return { resolved: resolved as Step['resolved'], builtin, type, params };
}
