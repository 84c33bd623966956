/** Events only the host sends to a channel (the end of its session); a client never may. */
const HOST_EVENTS = new Set(['session.closed']);

/**
 * True when an event type is the host's own: listed above, or in the `xstate.` and `relup.`
 * namespaces the runtime uses for its internal events. Such a type from the wire is refused,
 * so no client can make a channel believe its session ended (or anything else the host says).
 */
export function isHostEvent(type: string): boolean {
  return HOST_EVENTS.has(type) || type.startsWith('xstate.') || type.startsWith('relup.');
}
