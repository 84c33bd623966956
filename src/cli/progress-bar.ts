import cliProgress from 'cli-progress';
import type { ObservedEvent } from '../control/control-client.ts';
import type { ProgressDisplay, ProgressNodes } from './progress-display.ts';
import { applyEvent, elapsed, initialProgress, type NodeProgress } from './progress-state.ts';

const WIDTH = 20;

/** One node's line: bar, steps done/total, the current step, channels suspended of total, elapsed. */
export function progressText(p: NodeProgress, now = Date.now()): string {
  const fraction = p.total ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const bar = p.total ? `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}` : '░'.repeat(WIDTH);
  const steps = `${p.done}/${p.total ?? '?'} steps`;
  const doing = p.failed ? `failed at ${p.failed}` : (p.current ?? p.state ?? 'waiting');
  const channels = `channels ${p.suspended}/${p.channels ?? '?'} suspended`;
  return `${p.node} ${bar} ${steps} | ${doing} | ${channels} | ${elapsed(p, now)}`;
}

/** The terminal display: a live bar per node (cli-progress), redrawn as events come and time passes. */
export function progressBar(nodes: ProgressNodes, stream: NodeJS.WritableStream): ProgressDisplay {
  const multi = new cliProgress.MultiBar({
    stream,
    format: (_options, _params, payload: { progress: NodeProgress }) => progressText(payload.progress),
    hideCursor: true,
    fps: 10,
    // Bars are redrawn from the payload; their own value only has to change when a frame is due.
    forceRedraw: true,
  });
  const state = new Map<string, { progress: NodeProgress; bar: cliProgress.SingleBar }>();
  const add = (node: string, channels?: number) => {
    const progress = initialProgress(node, channels);
    const entry = { progress, bar: multi.create(1, 0, { progress }) };
    state.set(node, entry);
    return entry;
  };
  for (const { node, channels } of nodes) add(node, channels);
  return {
    event(e: ObservedEvent) {
      const entry = state.get(e.node) ?? add(e.node);
      entry.progress = applyEvent(entry.progress, e);
      entry.bar.update(0, { progress: entry.progress });
    },
    stop() {
      multi.stop();
    },
  };
}
