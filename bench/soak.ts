// 12. Soak: upgrade/downgrade round trips under load, in a fresh process (bench/lib/soak-probe.ts):
// heap and RSS growth per round trip, and every acknowledged say checked against history.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNats } from '../src/nats/local-server.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import type { SoakResult } from './lib/soak-probe.ts';

const probe = fileURLToPath(new URL('./lib/soak-probe.ts', import.meta.url));
// Growth is measured from here on: the first round trips load 1.1.0 and warm the JIT.
const SETTLED_AT = 10;

/** The soak benchmark. */
export const soak: Bench = {
  id: 'soak',
  title: '12. Soak: upgrade/downgrade round trips under load',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const roundTrips = ctx.quick ? 40 : 200;
    const server = await startNats();
    try {
      const p = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', probe, server.url, String(roundTrips)],
        { encoding: 'utf8', timeout: 900_000 },
      );
      if (p.status !== 0) throw new Error(`soak probe failed (${p.status}): ${p.stderr}`);
      const s = JSON.parse(p.stdout.trim().split('\n').pop() ?? '') as SoakResult;
      const at = (i: number) => s.samples.find(([k]) => k === i) ?? s.samples[0];
      const [, heap0, rss0] = at(SETTLED_AT) as [number, number, number];
      const [, heapN, rssN] = s.samples[s.samples.length - 1] as [number, number, number];
      const span = roundTrips - SETTLED_AT;
      const mb = (b: number) => (b / 2 ** 20).toFixed(1);
      ctx.log(
        `  ${roundTrips} round trips in ${s.seconds.toFixed(0)} s: heap ${mb(heap0)} → ${mb(heapN)} MB, rss ${mb(rss0)} → ${mb(rssN)} MB; ` +
          `sent ${s.sent}, acked ${s.acked}, lost ${s.lost}, duplicated ${s.duplicated}, unchecked ${s.unchecked}`,
      );
      ctx.notes.push(
        `One durable chat node (examples/chat, the repo's relup) with 40 clients in 20 rooms, each saying every 300 ms and recording every acknowledgement, ` +
          `goes 1.0.0 → 1.1.0 → 1.0.0 ${roundTrips} times (${s.seconds.toFixed(0)} s, a round trip ${s.roundTripMs.toFixed(0)} ms median). ` +
          `Heap = heapUsed after 4 × gc(), RSS after the same, every 10 round trips; growth is (last − at round trip ${SETTLED_AT}) / ${span}. ` +
          `Every 10 round trips each room's history is read and every say acknowledged before is checked under its seq: ` +
          `${s.sent.toLocaleString('en')} sent, ${s.acked.toLocaleString('en')} acknowledged, ${s.lost} lost, ${s.duplicated} rooms with a duplicate, ${s.unchecked} past the 500 kept. ` +
          `Heap / RSS (MB) by round trip: ${s.samples.map(([i, h, r]) => `${i}: ${mb(h)} / ${mb(r)}`).join(', ')}.`,
      );
      return [
        figure({
          name: 'soak.heap-growth-per-round-trip',
          label: `heap growth per upgrade/downgrade round trip under load, round trips ${SETTLED_AT} → ${roundTrips}`,
          unit: 'B',
          runs: [(heapN - heap0) / span],
        }),
        figure({
          name: 'soak.rss-growth-per-round-trip',
          label: `RSS growth per round trip, round trips ${SETTLED_AT} → ${roundTrips}`,
          unit: 'B',
          runs: [(rssN - rss0) / span],
        }),
        figure({
          name: 'soak.lost',
          label: `acknowledged says lost over ${roundTrips} round trips (of ${s.acked.toLocaleString('en')})`,
          unit: 'messages',
          runs: [s.lost + s.duplicated],
          target: { on: 'value', op: '<=', limit: 0 },
        }),
      ];
    } finally {
      await server.stop();
    }
  },
};
