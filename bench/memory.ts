// 6. Memory: bytes per idle channel (heap after gc, and RSS), over 100,000 channels of the chat
// example's logic. Each measurement runs in a fresh process (bench/lib/memory-probe.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNats } from '../src/nats/local-server.ts';
import type { ProbeResult } from './lib/memory-probe.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { median } from './lib/stats.ts';

const probe = fileURLToPath(new URL('./lib/memory-probe.ts', import.meta.url));

function measure(mode: 'snapshot' | 'bare' | 'full', count: number, url = ''): ProbeResult {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', probe, mode, String(count), url], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`memory probe ${mode} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ProbeResult;
}

/** The memory benchmark. */
export const memory: Bench = {
  id: 'memory',
  title: '6. Memory per idle channel',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const count = ctx.quick ? 20_000 : 100_000;
    const runs = ctx.quick ? 2 : 3;
    const snap: ProbeResult[] = [];
    const bare: ProbeResult[] = [];
    const full: ProbeResult[] = [];
    for (let r = 0; r < runs; r++) {
      snap.push(measure('snapshot', count));
      bare.push(measure('bare', count));
      // A nats-server of its own per measurement: a probe's node leaves its state in JetStream,
      // and the next probe on the same server would restore it first (it did not finish in 300 s).
      const server = await startNats();
      try {
        full.push(measure('full', count, server.url));
      } finally {
        await server.stop();
      }
      ctx.log(
        `  run ${r + 1}: heap/channel snapshot ${snap[r]?.heapPerChannel.toFixed(0)} B, bare ${bare[r]?.heapPerChannel.toFixed(0)} B, full ${full[r]?.heapPerChannel.toFixed(0)} B`,
      );
    }
    const heap = (xs: ProbeResult[]) => xs.map((x) => x.heapPerChannel);
    const rss = (xs: ProbeResult[]) => xs.map((x) => x.rssPerChannel);
    const overhead = full.map((f, i) => f.heapPerChannel - (snap[i]?.heapPerChannel ?? 0));
    ctx.notes.push(
      `${count.toLocaleString('en')} channels per measurement, each measurement in a fresh \`node --expose-gc\` process; ` +
        'heap = heapUsed after 4 × gc() minus before, divided by the count. ' +
        "*snapshot*: the chat channel logic's initial xstate snapshots alone (what the logic itself holds: context with user, room and session id). " +
        '*bare*: `new ActorHost` with the chat channel logic and a shared no-op emit handler. ' +
        "*full*: `ServiceHost.openChannel` on a chat node: actor, NATS subscription, effect handler, registry entries, and its entry in its room's member map " +
        '(1,000 rooms, created before the baseline). **Runtime overhead = full − snapshot**: what relup adds to a session beyond the state of its logic; the 2 KB target applies to it. ' +
        `Medians: snapshot ${median(heap(snap)).toFixed(0)} B, bare ActorHost ${median(heap(bare)).toFixed(0)} B, full ${median(heap(full)).toFixed(0)} B.`,
    );
    return [
      figure({
        name: 'memory.overhead.heap',
        label: 'runtime overhead per idle channel (full − logic snapshot), heap',
        unit: 'B',
        runs: overhead,
        target: { on: 'value', op: '<=', limit: 2048 },
      }),
      figure({
        name: 'memory.full.heap',
        label: 'heap per idle channel, full (actor + NATS subscription + registry + room entry)',
        unit: 'B',
        runs: heap(full),
      }),
      figure({ name: 'memory.full.rss', label: 'RSS per idle channel, full', unit: 'B', runs: rss(full) }),
      figure({
        name: 'memory.bare.heap',
        label: 'heap per bare ActorHost with the chat channel logic',
        unit: 'B',
        runs: heap(bare),
        baselineLabel: 'logic snapshot alone',
        baselineRuns: heap(snap),
      }),
      figure({ name: 'memory.bare.rss', label: 'RSS per bare ActorHost', unit: 'B', runs: rss(bare) }),
    ];
  },
};
