// One memory measurement in a fresh process (run by bench/memory.ts under --expose-gc), so the
// heap is not shaped by earlier benchmarks. Prints one JSON line: { heapPerChannel, rssPerChannel }.
//   memory-probe.ts snapshot <count>      the chat channel's xstate snapshots alone (the logic's state)
//   memory-probe.ts bare <count>          bare ActorHosts with the chat channel logic
//   memory-probe.ts full <count> <url>    channels of a chat node, with their NATS subscriptions
import { nuid } from '@nats-io/nats-core';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { initialLogic } from '../../src/actors/logic-scope.ts';
import { loadService } from '../../src/release/code-loader.ts';
import { readManifest } from '../../src/release/manifest.ts';
import { CHAT_RELEASES, openChannels, startBenchNode } from './nodes.ts';
import { runProbe } from './run-probe.ts';

/** What the probe prints. */
export interface ProbeResult {
  count: number;
  heapPerChannel: number;
  rssPerChannel: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
}

async function main(): Promise<ProbeResult> {
  const [mode, countArg, url] = process.argv.slice(2);
  const count = Number(countArg);
  const dir = `${CHAT_RELEASES}/1.0.0`;
  const def = await loadService(dir, await readManifest(dir), 'chat');
  const logic = def.channel;
  if (!logic) throw new Error('chat has no channel logic');
  const keep: unknown[] = [];
  const input = (i: number, session: string) => ({ user: `u${i}`, room: `r${i % 1000}`, session });
  const noEmit = () => undefined;
  if (mode === 'snapshot' || mode === 'bare') {
    // Warm-up: the logic's shared scope and the JIT, outside the measured delta.
    for (let i = 0; i < 1000; i++)
      new ActorHost({ id: nuid.next(), logic, version: '1.0.0', input: input(i, 'w'), onEmit: noEmit });
    const before = settle();
    for (let i = 0; i < count; i++) {
      const id = nuid.next();
      keep.push(
        mode === 'snapshot'
          ? initialLogic(logic, input(i, id))[0]
          : new ActorHost({ id, logic, version: '1.0.0', input: input(i, id), onEmit: noEmit }),
      );
    }
    const after = settle();
    return per(before, after, count, keep);
  }
  if (mode === 'full') {
    const node = await startBenchNode(String(url), `bench-mem-${process.pid}`, 'chat');
    // Warm-up: one channel in each of the 1,000 rooms, so the rooms (named actors) exist before the baseline.
    await openChannels(node, 'chat', 1000, { rooms: 1000 });
    const before = settle();
    keep.push(await openChannels(node, 'chat', count, { rooms: 1000 }));
    const after = settle();
    const r = per(before, after, count, keep);
    node.services.get('chat')?.kill();
    return r;
  }
  throw new Error(`unknown mode ${mode}`);
}

function per(
  before: NodeJS.MemoryUsage,
  after: NodeJS.MemoryUsage,
  count: number,
  keep: unknown[],
): ProbeResult {
  if (keep.length === 0) throw new Error('nothing kept');
  return {
    count,
    heapPerChannel: (after.heapUsed - before.heapUsed) / count,
    rssPerChannel: (after.rss - before.rss) / count,
  };
}

runProbe(main);
