// 8. Upgrade pause: first suspend to last resume (UpgradeReport.pauseMs) of a full hot upgrade
// of examples/chat 1.0.0 → 1.1.0 with 1,000, 10,000 and 100,000 live channels, and the whole
// upgrade time. Each up is followed by the down back to 1.0.0 (also measured), so every run
// starts from the same release.

import { startNats } from '../src/nats/local-server.ts';
import type { RelupNode } from '../src/node/relup-node.ts';
import { openChannels, serviceOf, startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { median, nowMs } from './lib/stats.ts';

/** Pause and whole time of one upgrade; throws when it did not finish. */
export async function timedUpgrade(
  node: RelupNode,
  to: string,
): Promise<{ pause: number; total: number; steps: Record<string, number> }> {
  const t0 = nowMs();
  const report = await node.upgrade({ to });
  const total = nowMs() - t0;
  if (report.outcome !== 'done' || report.pauseMs === undefined)
    throw new Error(`upgrade to ${to}: ${report.outcome} ${JSON.stringify(report.error ?? {})}`);
  const steps: Record<string, number> = {};
  for (const s of report.steps) steps[s.id] = s.durationMs;
  return { pause: report.pauseMs, total, steps };
}

const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

/** The upgrade pause benchmark. */
export const upgradePause: Bench = {
  id: 'upgrade-pause',
  title: '8. Upgrade pause',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const counts = [1_000, 10_000, 100_000];
    const server = await startNats();
    const node = await startBenchNode(server.url, 'bench-upgrade', 'chat');
    const out: BenchResult[] = [];
    const pauses = new Map<number, number[]>();
    try {
      // Warm-up: one round trip with a few channels (first import of 1.1.0, JIT).
      await openChannels(node, 'chat', 100, { rooms: 1000 });
      await timedUpgrade(node, '1.1.0');
      await timedUpgrade(node, '1.0.0');
      let open = 100;
      for (const count of counts) {
        await openChannels(node, 'chat', count - open, { rooms: 1000 });
        open = count;
        const up = { pause: [] as number[], total: [] as number[] };
        const down: number[] = [];
        let slowest: Record<string, number> = {};
        for (let r = 0; r < ctx.runs; r++) {
          const u = await timedUpgrade(node, '1.1.0');
          const d = await timedUpgrade(node, '1.0.0');
          up.pause.push(u.pause);
          up.total.push(u.total);
          down.push(d.pause);
          if (u.pause >= Math.max(...up.pause)) slowest = u.steps;
          ctx.log(
            `  ${k(count)}: up pause ${u.pause.toFixed(1)} ms, total ${u.total.toFixed(0)} ms; down pause ${d.pause.toFixed(1)} ms`,
          );
        }
        pauses.set(count, up.pause);
        const heavy = Object.entries(slowest)
          .filter(([, ms]) => ms >= 1)
          .map(([id, ms]) => `${id} ${ms.toFixed(1)}`)
          .join(', ');
        ctx.notes.push(
          `${k(count)} channels: steps of the slowest up run (ms, ≥ 1 ms): ${heavy}. Down (1.1.0 → 1.0.0) pause median ${median(down).toFixed(1)} ms.`,
        );
        out.push(
          figure({
            name: `upgrade.pause.${k(count)}`,
            label: `pause, chat 1.0.0 → 1.1.0, ${count.toLocaleString('en')} live channels`,
            unit: 'ms',
            runs: up.pause,
            ...(count === 10_000 && { target: { on: 'value' as const, op: '<=' as const, limit: 100 } }),
          }),
          figure({
            name: `upgrade.total.${k(count)}`,
            label: `whole upgrade (upgrade() call), ${count.toLocaleString('en')} live channels`,
            unit: 'ms',
            runs: up.total,
          }),
        );
      }
      const p10 = pauses.get(10_000) ?? [];
      const p100 = pauses.get(100_000) ?? [];
      out.push(
        figure({
          name: 'upgrade.pause.growth',
          label: 'pause growth, 100,000 / 10,000 channels (linear = 10)',
          unit: '×',
          runs: p100.map((p, i) => p / (p10[i] ?? Number.NaN)),
          target: { on: 'value', op: '<=', limit: 12 },
          note: `median pause 100k / median pause 10k = ${(median(p100) / median(p10)).toFixed(2)}`,
        }),
      );
      ctx.notes.unshift(
        "Channels are opened directly through the node's `ServiceHost.openChannel` (real channel actors, each with its NATS subscription and its entry in one of 1,000 rooms), " +
          'not by 100,000 connect requests over NATS, which would only make the setup slow. No load runs during the upgrade (see benchmark 7 for that). ' +
          'Pause = `UpgradeReport.pauseMs` (start of the first suspend step to the end of the last resume); whole = the `node.upgrade({ to })` call, planning included. ' +
          `Each run is one up followed by one down; ${ctx.runs} runs per count after a warm-up round trip.`,
      );
      return out;
    } finally {
      serviceOf(node, 'chat').kill();
      await node.stop();
      await server.stop();
    }
  },
};
