// 7. Bulk suspension: time to suspend and to resume 100,000 idle channels (what an upgrade's
// suspend_channels / resume_channels do), beside the floor: a flag set on 100,000 objects.
import { bulkResume, bulkSuspend } from '../src/actors/bulk-suspend.ts';
import { startNats } from '../src/nats/local-server.ts';
import { openChannels, serviceOf, startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { nowMs } from './lib/stats.ts';

/** Times setting a flag on each of `objs` and clearing it again (the floor of any bulk suspension). */
export function floor(objs: { suspended: boolean }[]): { set: number; clear: number } {
  let t = nowMs();
  for (const o of objs) o.suspended = true;
  const set = nowMs() - t;
  t = nowMs();
  for (const o of objs) o.suspended = false;
  return { set, clear: nowMs() - t };
}

/** The bulk suspension benchmark. */
export const bulkSuspendBench: Bench = {
  id: 'bulk-suspend',
  title: '7. Bulk suspension',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const count = 100_000;
    const runs = ctx.quick ? 5 : 10;
    const server = await startNats();
    const node = await startBenchNode(server.url, 'bench-bulk', 'chat');
    try {
      await openChannels(node, 'chat', count, { rooms: 1000 });
      const objs = Array.from({ length: count }, () => ({ suspended: false, id: '' }));
      const suspend: number[] = [];
      const resume: number[] = [];
      const floorSet: number[] = [];
      const floorClear: number[] = [];
      for (let r = 0; r < runs + 1; r++) {
        let t = nowMs();
        const result = await bulkSuspend(node.actors.matching('channel:'), 5000);
        const s = nowMs() - t;
        if (result.result !== 'ok' || result.count !== count)
          throw new Error(`bulk suspension: ${JSON.stringify(result).slice(0, 300)}`);
        t = nowMs();
        const n = bulkResume(node.actors.matching('channel:'));
        const u = nowMs() - t;
        if (n !== count) throw new Error(`resumed ${n} of ${count}`);
        const f = floor(objs);
        if (r === 0) continue; // warm-up
        suspend.push(s);
        resume.push(u);
        floorSet.push(f.set);
        floorClear.push(f.clear);
      }
      ctx.notes.push(
        `${count.toLocaleString('en')} idle chat channels opened through ServiceHost.openChannel (1,000 rooms); ` +
          "suspend = `bulkSuspend(node.actors.matching('channel:'), 5000)` (what the relup step suspend_channels runs), " +
          "resume = `bulkResume(node.actors.matching('channel:'))`; " +
          `${runs} cycles after one warm-up. Floor: \`for (const o of objs) o.suspended = true\` over ${count.toLocaleString('en')} plain objects in an array.`,
      );
      return [
        figure({
          name: 'bulk.suspend',
          label: `suspend ${count.toLocaleString('en')} idle channels`,
          unit: 'ms',
          runs: suspend,
          baselineLabel: 'floor: set a flag on 100,000 objects',
          baselineRuns: floorSet,
          target: { on: 'value', op: '<=', limit: 50 },
        }),
        figure({
          name: 'bulk.resume',
          label: `resume ${count.toLocaleString('en')} idle channels`,
          unit: 'ms',
          runs: resume,
          baselineLabel: 'floor: clear a flag on 100,000 objects',
          baselineRuns: floorClear,
        }),
      ];
    } finally {
      // A brutal kill of the channels: a graceful close of 100,000 sessions takes seconds and is not measured here.
      serviceOf(node, 'chat').kill();
      await node.stop();
      await server.stop();
    }
  },
};
