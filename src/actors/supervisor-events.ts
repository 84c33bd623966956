import type { ExitReason } from './child.ts';

/**
 * What a supervisor reports. `child_started` follows every start (first start, dynamic start,
 * restart); `child_restarted` follows it when the start was an automatic restart.
 */
export type SupervisorEvent =
  | { type: 'child_started'; id: string }
  | { type: 'child_exited'; id: string; reason: ExitReason }
  | { type: 'child_restarted'; id: string }
  | { type: 'supervisor_shutdown'; reason: ExitReason };

/** A listener of {@link SupervisorEvent}s. */
export type SupervisorListener = (event: SupervisorEvent) => void;

/** A tiny typed emitter; a throwing listener is reported to `onError` and never breaks the supervisor. */
export class SupervisorEvents {
  private readonly listeners = new Set<SupervisorListener>();

  constructor(private readonly onError: (err: unknown, event: SupervisorEvent) => void) {}

  /** Subscribes; returns the unsubscribe function. */
  on(listener: SupervisorListener): () => void {
    // A wrapper makes each subscription distinct, so subscribing one function twice unsubscribes cleanly.
    const entry: SupervisorListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls every listener with the event. */
  emit(event: SupervisorEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }
}
