import type { AnyActorLogic } from 'xstate';

const cache = new WeakMap<AnyActorLogic, Set<string> | null>();

/**
 * The event types a machine handles anywhere, or null when any event may be meaningful
 * (non-machine logic, or a wildcard transition). Computed once per logic, so rejecting an
 * unknown message type costs one set lookup.
 */
export function acceptedEvents(logic: AnyActorLogic): Set<string> | null {
  let set = cache.get(logic);
  if (set !== undefined) return set;
  const root = (logic as { root?: { events?: string[] } }).root;
  const events = root?.events;
  set = Array.isArray(events) && !events.includes('*') ? new Set(events) : null;
  cache.set(logic, set);
  return set;
}
