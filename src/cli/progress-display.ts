import type { ObservedEvent } from '../control/control-client.ts';

/** Shows the progress of upgrades as their events arrive. */
export interface ProgressDisplay {
  event(e: ObservedEvent): void;
  /** Ends the display (a live one renders its final frame). */
  stop(): void;
}

/** The nodes a display follows: their ids and channel counts before the upgrade. */
export type ProgressNodes = readonly { node: string; channels?: number }[];
