// 11. Durability: what "a reply means it is stored" costs. The same counting channel (every
// request changes its state) under three contracts in one node: durable (the event is journaled
// in JetStream before the reply), write-behind (snapshots every 500 ms), none (nothing kept).
// Then the restore after a crash: a node boots with 10k persisted sessions, each with events
// journaled since its snapshot, against the same node booting with none.
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { RelupNode } from '../src/node/relup-node.ts';
import type { LatencyStats } from './lib/client-worker.ts';
import { openChannels, serviceOf, startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { connectSessions } from './lib/sessions.ts';
import { nowMs } from './lib/stats.ts';
import { Worker } from './lib/worker.ts';
import { INFLIGHT, latency, rrRate } from './request-reply.ts';

const MODES = ['dur', 'wb', 'none'] as const;

/** Dies without stopping, as a SIGKILL would: nothing is flushed or released. */
async function crash(node: RelupNode): Promise<void> {
  await node.nc.close();
  await node.presence.stop();
}

/** Boots a node of the durable release and returns how long it took until it serves. */
async function bootMs(url: string, id: string): Promise<{ ms: number; node: RelupNode }> {
  const t0 = nowMs();
  const node = await startBenchNode(url, id, 'durable');
  return { ms: nowMs() - t0, node };
}

/** The durability benchmark. */
export const durability: Bench = {
  id: 'durability',
  title: '11. Durability: durable vs write-behind vs none, and restore after a crash',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const total = ctx.quick ? 20_000 : 40_000;
    const seq = ctx.quick ? 2_000 : 4_000;
    const sessions = ctx.quick ? 2_000 : 10_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    const nodes: RelupNode[] = [];
    try {
      const node = await startBenchNode(server.url, 'bench-dur', 'durable');
      nodes.push(node);
      nc = await connectNats({ servers: server.url, name: 'bench-dur' });
      worker = await Worker.start(server.url);
      const subjects: Record<(typeof MODES)[number], string[]> = { dur: [], wb: [], none: [] };
      for (const m of MODES) subjects[m] = await connectSessions(nc, node.subjects, m, INFLIGHT, () => ({}));
      const w = worker;
      for (const m of MODES) await rrRate(w, subjects[m], total / 4); // warm-up
      const rate = { dur: [] as number[], wb: [] as number[], none: [] as number[] };
      const lat = { dur: [] as LatencyStats[], wb: [] as LatencyStats[], none: [] as LatencyStats[] };
      for (let r = 0; r < ctx.runs; r++) {
        for (const m of MODES) rate[m].push(await rrRate(w, subjects[m], total));
        for (const m of MODES) lat[m].push(await latency(w, subjects[m][0] as string, seq));
        ctx.log(
          `  run ${r + 1}: ${MODES.map((m) => `${m} ${Math.round(rate[m][r] as number)}/s p99 ${lat[m][r]?.p99.toFixed(3)} ms`).join(', ')}`,
        );
      }

      // Restore: `sessions` durable sessions, each written once and then changed twice (journaled).
      const restoring = await startBenchNode(server.url, 'bench-restore', 'durable');
      const actors = await openChannels(restoring, 'dur', sessions);
      await restoring.restartModes.flush();
      for (let i = 0; i < actors.length; i += 1000)
        await Promise.all(
          actors.slice(i, i + 1000).map(async (a) => {
            await a.ask({ type: 'echo' });
            await a.ask({ type: 'echo' });
          }),
        );
      await crash(restoring);
      const restoreRuns: number[] = [];
      const emptyRuns: number[] = [];
      for (let r = 0; r < Math.min(3, ctx.runs); r++) {
        const empty = await bootMs(server.url, `bench-empty-${r}`);
        emptyRuns.push(empty.ms);
        await empty.node.stop();
        const back = await bootMs(server.url, 'bench-restore');
        const host = serviceOf(back.node, 'dur');
        if (host.sessionCount !== sessions)
          throw new Error(`restored ${host.sessionCount} of ${sessions} sessions`);
        const wrong = [...host.channelActors()].filter((a) => (a.context as { n: number }).n !== 2).length;
        if (wrong > 0) throw new Error(`${wrong} restored sessions lost journaled events`);
        restoreRuns.push(back.ms);
        ctx.log(
          `  restore run ${r + 1}: ${sessions} sessions in ${back.ms.toFixed(0)} ms (empty boot ${empty.ms.toFixed(0)} ms)`,
        );
        await crash(back.node);
      }
      ctx.notes.push(
        `One node, three services with the same counting channel (bench/releases/durable): every \`echo\` request changes the channel's state. ` +
          `durable: the accepted event is appended to the JetStream stream relup_events (file storage, R1) and the reply waits for the acknowledgement; ` +
          'write-behind: the reply goes out at once, snapshots every 500 ms; none: restart mode `clear`, nothing kept. ' +
          `Throughput: ${INFLIGHT} sessions, one request in flight each, ${total.toLocaleString('en')} requests per run; latency: ${seq.toLocaleString('en')} sequential requests. ` +
          `Restore: ${sessions.toLocaleString('en')} sessions written once, then two journaled requests each, then the node's connection closed without a stop (a crash); ` +
          'the figure is the boot until the node serves, restoring every session with its journal replayed (each is checked to count 2), against a boot of the same release with nothing persisted.',
      );
      const p99 = (m: (typeof MODES)[number]) => lat[m].map((x) => x.p99);
      return [
        figure({
          name: 'durability.throughput.durable',
          label: `requests/s, ${INFLIGHT} in flight, every request changes state, durable`,
          unit: 'req/s',
          runs: rate.dur,
          baselineLabel: 'the same channel, nothing kept',
          baselineRuns: rate.none,
          target: { on: 'ratio', op: '>=', limit: 0.8 },
        }),
        figure({
          name: 'durability.throughput.write-behind',
          label: `requests/s, ${INFLIGHT} in flight, write-behind`,
          unit: 'req/s',
          runs: rate.wb,
          baselineLabel: 'the same channel, nothing kept',
          baselineRuns: rate.none,
        }),
        figure({
          name: 'durability.latency.p99.durable',
          label: 'sequential latency p99, durable',
          unit: 'ms',
          runs: p99('dur'),
          baselineLabel: 'the same channel, nothing kept',
          baselineRuns: p99('none'),
        }),
        figure({
          name: 'durability.latency.p99.write-behind',
          label: 'sequential latency p99, write-behind',
          unit: 'ms',
          runs: p99('wb'),
          baselineLabel: 'the same channel, nothing kept',
          baselineRuns: p99('none'),
        }),
        figure({
          name: 'durability.restore',
          label: `boot restoring ${sessions.toLocaleString('en')} sessions with journals after a crash`,
          unit: 'ms',
          runs: restoreRuns,
          baselineLabel: 'boot with nothing persisted',
          baselineRuns: emptyRuns,
        }),
      ];
    } finally {
      await worker?.stop();
      await nc?.close();
      for (const n of nodes.reverse()) await n.stop();
      await server.stop();
    }
  },
};
