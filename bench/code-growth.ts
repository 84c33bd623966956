// 10. Code loading growth: memory retained per loaded release version after 100 upgrades back
// and forth (heap after gc; the node's status has loadedModules / loadedVersions). Each run in a
// fresh process (bench/lib/code-growth-probe.ts), so the releases are imported for the first time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNats } from '../src/nats/local-server.ts';
import type { GrowthResult } from './lib/code-growth-probe.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';

const probe = fileURLToPath(new URL('./lib/code-growth-probe.ts', import.meta.url));
const CHANNELS = 1000;

/** The code loading growth benchmark. */
export const codeGrowth: Bench = {
  id: 'code-growth',
  title: '10. Code loading growth',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const upgrades = ctx.quick ? 40 : 100;
    const runs = ctx.quick ? 1 : 3;
    const server = await startNats();
    try {
      const results: GrowthResult[] = [];
      for (let r = 0; r < runs; r++) {
        const p = spawnSync(
          process.execPath,
          ['--expose-gc', '--import', 'tsx', probe, server.url, String(upgrades), String(CHANNELS)],
          { encoding: 'utf8', timeout: 300_000 },
        );
        if (p.status !== 0) throw new Error(`code growth probe failed (${p.status}): ${p.stderr}`);
        const g = JSON.parse(p.stdout.trim().split('\n').pop() ?? '') as GrowthResult;
        results.push(g);
        ctx.log(
          `  run ${r + 1}: heap ${(g.before / 2 ** 20).toFixed(2)} MB → ${(g.afterFirstRoundTrip / 2 ** 20).toFixed(2)} MB after the first round trip → ` +
            `${((g.samples[g.samples.length - 1]?.[1] ?? 0) / 2 ** 20).toFixed(2)} MB after ${upgrades}; modules ${g.loadedModulesBefore} → ${g.loadedModules}`,
        );
      }
      const last = (g: GrowthResult) => g.samples[g.samples.length - 1]?.[1] ?? Number.NaN;
      const at10 = (g: GrowthResult) => g.samples[0]?.[1] ?? Number.NaN;
      const extraVersions = (g: GrowthResult) => Math.max(1, g.loadedVersions.length - 1);
      const g0 = results[0] as GrowthResult;
      ctx.notes.push(
        `A chat node with ${CHANNELS.toLocaleString('en')} live channels (100 rooms) upgraded 1.0.0 → 1.1.0 → 1.0.0 … ${upgrades} times in a fresh \`node --expose-gc\` process per run; heap = heapUsed after 4 × gc(). ` +
          `Status after the last upgrade: loadedModules ${g0.loadedModules} (${g0.loadedModulesBefore} before the first), loadedVersions ${JSON.stringify(g0.loadedVersions)}: ` +
          'each release version is imported once per process (Node cannot unload an ES module) and reused by every later upgrade to it. ' +
          '*Retained per version* = (heap after the last upgrade − heap before the first) / versions loaded beyond the boot one; it includes the one-time cost of the upgrade machinery (relup compiler, executor) and JIT code. ' +
          `*Growth per upgrade* = (heap after the last − heap after the 10th) / ${upgrades - 10}. ` +
          `Heap after every 10 upgrades, run 1 (MB): ${g0.samples.map(([i, h]) => `${i}: ${(h / 2 ** 20).toFixed(2)}`).join(', ')}.`,
      );
      return [
        figure({
          name: 'code.retained-per-version',
          label: `heap retained per loaded release version after ${upgrades} upgrades`,
          unit: 'B',
          runs: results.map((g) => (last(g) - g.before) / extraVersions(g)),
        }),
        figure({
          name: 'code.first-round-trip',
          label: 'heap retained by the first round trip (1.1.0 imported, upgrade machinery first used)',
          unit: 'B',
          runs: results.map((g) => g.afterFirstRoundTrip - g.before),
        }),
        figure({
          name: 'code.growth-per-upgrade',
          label: `heap growth per upgrade, upgrades 10 → ${upgrades}`,
          unit: 'B',
          runs: results.map((g) => (last(g) - at10(g)) / (upgrades - 10)),
        }),
      ];
    } finally {
      await server.stop();
    }
  },
};
