// 3. A peer: the request/reply workload of benchmark 2 through Moleculer 0.14 on its NATS
// transporter (the `nats` v2 client), against relup's echo channels, measured side by side.
import type { NatsConnection } from '@nats-io/nats-core';
import { ServiceBroker } from 'moleculer';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { LatencyStats, RrStats } from './lib/client-worker.ts';
import { startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { connectSessions } from './lib/sessions.ts';
import { Worker } from './lib/worker.ts';
import { INFLIGHT, latency, RR_BYTES, rrRate } from './request-reply.ts';

/** The Moleculer peer benchmark. */
export const peerMoleculer: Bench = {
  id: 'peer-moleculer',
  title: '3. A peer: Moleculer 0.14 on NATS',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const total = ctx.quick ? 20_000 : 60_000;
    const seq = ctx.quick ? 2_000 : 5_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    // The server side: an `echo` action answering what it got, in this process like the relup node.
    const broker = new ServiceBroker({
      nodeID: 'bench-server',
      transporter: server.url,
      logger: false,
      metrics: false,
      tracing: false,
    });
    broker.createService({
      name: 'echo',
      actions: { echo: (c) => ({ ok: true, data: (c.params as { data?: unknown }).data }) },
    });
    const node = await startBenchNode(server.url, 'bench-peer', 'echo');
    try {
      await broker.start();
      nc = await connectNats({ servers: server.url, name: 'bench-connect' });
      const relup = await connectSessions(nc, node.subjects, 'echo', INFLIGHT, () => ({}));
      worker = await Worker.start(server.url);
      const w = worker;
      await w.call('molStart', { url: server.url });
      const molRate = async (n: number) => {
        const r = await w.call<RrStats>('molRr', { total: n, inflight: INFLIGHT, bytes: RR_BYTES });
        if (r.errors > 0) throw new Error(`${r.errors} of ${n} moleculer calls failed`);
        return (r.ok / r.ms) * 1000;
      };
      await molRate(total / 4);
      await rrRate(w, relup, total / 4);
      const rate = { mol: [] as number[], relup: [] as number[] };
      const lat = { mol: [] as LatencyStats[], relup: [] as LatencyStats[] };
      for (let r = 0; r < ctx.runs; r++) {
        rate.mol.push(await molRate(total));
        rate.relup.push(await rrRate(w, relup, total));
        lat.mol.push(await w.call<LatencyStats>('molLatency', { count: seq, warmup: 500, bytes: RR_BYTES }));
        lat.relup.push(await latency(w, relup[0] as string, seq));
        ctx.log(
          `  run ${r + 1}: moleculer ${Math.round(rate.mol[r] as number)}/s p99 ${lat.mol[r]?.p99.toFixed(3)} ms, ` +
            `relup ${Math.round(rate.relup[r] as number)}/s p99 ${lat.relup[r]?.p99.toFixed(3)} ms`,
        );
      }
      await w.call('molStop');
      ctx.notes.push(
        `Same workload as benchmark 2 (${INFLIGHT} in flight, ${total.toLocaleString('en')} requests per run; ${seq.toLocaleString('en')} sequential for latency), ` +
          `caller in a separate process. Moleculer: one ServiceBroker per process on \`transporter: nats://…\` (nats v2 client), ` +
          `JSON serializer, logger/metrics/tracing off, action \`echo.echo\` returning \`{ ok, data }\`. relup: the echo channels of benchmark 2.`,
      );
      const l = (k: 'mol' | 'relup', f: 'p50' | 'p99') => lat[k].map((x) => x[f]);
      return [
        figure({
          name: 'peer.moleculer.throughput',
          label: `requests/s, ${INFLIGHT} in flight: relup echo channels vs Moleculer action`,
          unit: 'req/s',
          runs: rate.relup,
          baselineLabel: 'Moleculer 0.14 + NATS',
          baselineRuns: rate.mol,
          target: { on: 'ratio', op: '>', limit: 1 },
        }),
        figure({
          name: 'peer.moleculer.latency.p50',
          label: 'sequential latency p50: relup vs Moleculer',
          unit: 'ms',
          runs: l('relup', 'p50'),
          baselineLabel: 'Moleculer 0.14 + NATS',
          baselineRuns: l('mol', 'p50'),
        }),
        figure({
          name: 'peer.moleculer.latency.p99',
          label: 'sequential latency p99: relup vs Moleculer',
          unit: 'ms',
          runs: l('relup', 'p99'),
          baselineLabel: 'Moleculer 0.14 + NATS',
          baselineRuns: l('mol', 'p99'),
        }),
      ];
    } finally {
      await worker?.stop();
      await nc?.close();
      await broker.stop();
      await node.stop();
      await server.stop();
    }
  },
};
