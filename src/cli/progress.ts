import type { NodeEvent } from '../control/control-client.ts';
import { progressBar } from './progress-bar.ts';
import { progressLines } from './progress-lines.ts';

/** Shows the progress of upgrades as their events arrive. */
export interface ProgressDisplay {
  event(e: NodeEvent): void;
  /** Ends the display (a live one renders its final frame). */
  stop(): void;
}

/** The nodes a display follows: their ids and channel counts before the upgrade. */
export type ProgressNodes = readonly { node: string; channels?: number }[];

/**
 * A live bar per node on a terminal; otherwise, or for scripts (`--json`), one plain line per
 * event. With `--json` the lines go to stderr so stdout stays one JSON document.
 */
export function createProgress(nodes: ProgressNodes, opts: { json: boolean }): ProgressDisplay {
  if (!opts.json && process.stderr.isTTY) return progressBar(nodes, process.stderr);
  return progressLines(opts.json ? process.stderr : process.stdout);
}
