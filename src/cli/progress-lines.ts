import type { ObservedEvent } from '../control/control-client.ts';
import type { ProgressDisplay } from './progress-display.ts';

const UPGRADE_TYPES = new Set(['step_started', 'step_completed', 'step_failed', 'step_undone', 'state']);
const SHOWN = new Set(['node', 'time', 'at', 'type', 'step', 'state', 'result', 'durationMs', 'error']);

/**
 * One event as a plain line: `time node type step result|state (ms) [CODE: message]`; other
 * events (commands, barriers, lifecycle) add their scalar fields as `key=value`.
 */
export function eventLine(e: ObservedEvent): string {
  const time =
    typeof e.time === 'string' ? e.time : typeof e.at === 'string' ? e.at : new Date().toISOString();
  const parts = [time, e.node, e.type];
  if (typeof e.step === 'string') parts.push(e.step);
  if (e.type === 'state' && typeof e.state === 'string') parts.push(e.state);
  else if (typeof e.result === 'string') parts.push(e.result);
  if (typeof e.durationMs === 'number') parts.push(`(${e.durationMs} ms)`);
  if (!UPGRADE_TYPES.has(e.type))
    for (const [key, value] of Object.entries(e))
      if (!SHOWN.has(key) && value !== null && typeof value !== 'object')
        parts.push(`${key}=${String(value)}`);
  if (e.error) parts.push(`${e.error.code}: ${e.error.message}`);
  return parts.join(' ');
}

/** The display for pipes, logs and scripts: a line per event, nothing redrawn. */
export function progressLines(out: NodeJS.WritableStream): ProgressDisplay {
  return {
    event: (e) => out.write(`${eventLine(e)}\n`),
    stop: () => {},
  };
}
