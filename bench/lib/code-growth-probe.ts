// Code loading growth, in a fresh process (run by bench/code-growth.ts under --expose-gc): a
// chat node with live channels goes 1.0.0 → 1.1.0 → 1.0.0 … `upgrades` times; the heap is read
// after gc before the first upgrade, after the first round trip and every 10 upgrades.
//   code-growth-probe.ts <nats url> <upgrades> <channels>
import { openChannels, serviceOf, startBenchNode } from './nodes.ts';
import { runProbe } from './run-probe.ts';

/** What the probe prints. */
export interface GrowthResult {
  /** Heap after gc before the first upgrade (one release loaded). */
  before: number;
  /** Heap after gc after the first round trip (both releases loaded). */
  afterFirstRoundTrip: number;
  /** [upgrades done, heap after gc]. */
  samples: [number, number][];
  loadedModulesBefore: number;
  loadedModules: number;
  loadedVersions: string[];
  upgrades: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<GrowthResult> {
  const [url, upgradesArg, channelsArg] = process.argv.slice(2);
  const upgrades = Number(upgradesArg);
  const node = await startBenchNode(String(url), `bench-growth-${process.pid}`, 'chat');
  await openChannels(node, 'chat', Number(channelsArg), { rooms: 100 });
  const loadedModulesBefore = node.status().loadedModules;
  const before = heap();
  let afterFirstRoundTrip = 0;
  const samples: [number, number][] = [];
  for (let i = 1; i <= upgrades; i++) {
    const to = i % 2 === 1 ? '1.1.0' : '1.0.0';
    const r = await node.upgrade({ to });
    if (r.outcome !== 'done')
      throw new Error(`upgrade ${i} to ${to}: ${r.outcome} ${JSON.stringify(r.error)}`);
    if (i === 2) afterFirstRoundTrip = heap();
    if (i % 10 === 0) samples.push([i, heap()]);
  }
  const status = node.status();
  serviceOf(node, 'chat').kill();
  await node.stop();
  return {
    before,
    afterFirstRoundTrip,
    samples,
    loadedModulesBefore,
    loadedModules: status.loadedModules,
    loadedVersions: status.loadedVersions,
    upgrades,
  };
}

runProbe(main);
