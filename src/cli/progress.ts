import { progressBar } from './progress-bar.ts';
import type { ProgressDisplay, ProgressNodes } from './progress-display.ts';
import { progressLines } from './progress-lines.ts';

/**
 * A live bar per node on a terminal; otherwise, or for scripts (`--json`), one plain line per
 * event. With `--json` the lines go to stderr so stdout stays one JSON document.
 */
export function createProgress(nodes: ProgressNodes, opts: { json: boolean }): ProgressDisplay {
  if (!opts.json && process.stderr.isTTY) return progressBar(nodes, process.stderr);
  return progressLines(opts.json ? process.stderr : process.stdout);
}
