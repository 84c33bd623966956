// 2. Request/reply: requests/s through channel sessions with 100 in flight and sequential
// p50/p99 latency, against raw NATS request/reply (a responder that echoes the bytes); the
// chat example's `say` (channel → room actor → reply) as an extra figure.
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { RelupNode } from '../src/node/relup-node.ts';
import type { LatencyStats, RrStats } from './lib/client-worker.ts';
import { startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { connectSessions, rawResponders } from './lib/sessions.ts';
import { Worker } from './lib/worker.ts';

/** Payload size of every request. */
export const RR_BYTES = 128;
/** Requests in flight in the throughput runs. */
export const INFLIGHT = 100;

/** How the client process sends requests: a shared inbox (`lean`) or nats.js's `nc.request`. */
export type RequestMode = 'lean' | 'nc.request';

/** Requests/s of one closed-loop run over the subjects. */
export async function rrRate(
  worker: Worker,
  subjects: string[],
  total: number,
  mode: RequestMode = 'lean',
): Promise<number> {
  const r = await worker.call<RrStats>('rr', { subjects, total, inflight: INFLIGHT, bytes: RR_BYTES, mode });
  if (r.errors > 0) throw new Error(`${r.errors} of ${total} requests failed`);
  return (r.ok / r.ms) * 1000;
}

/** Sequential latency on one subject. */
export function latency(worker: Worker, subject: string, count: number): Promise<LatencyStats> {
  return worker.call<LatencyStats>('latency', { subject, count, warmup: 500, bytes: RR_BYTES, mode: 'lean' });
}

/** The request/reply benchmark. */
export const requestReply: Bench = {
  id: 'request-reply',
  title: '2. Request/reply',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const total = ctx.quick ? 20_000 : 60_000;
    const seq = ctx.quick ? 2_000 : 5_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    const nodes: RelupNode[] = [];
    try {
      const echo = await startBenchNode(server.url, 'bench-rr-echo', 'echo');
      nodes.push(echo);
      const chat = await startBenchNode(server.url, 'bench-rr-chat', 'chat');
      nodes.push(chat);
      nc = await connectNats({ servers: server.url, name: 'bench-raw' });
      worker = await Worker.start(server.url);
      const raw = rawResponders(nc, 'bench.rr', INFLIGHT);
      const relup = await connectSessions(nc, echo.subjects, 'echo', INFLIGHT, () => ({}));
      const reducer = await connectSessions(nc, echo.subjects, 'echor', INFLIGHT, () => ({}));
      // One member per room: each say is one forward to a room actor and one push.
      const say = await connectSessions(nc, chat.subjects, 'chat', INFLIGHT, (i) => ({
        user: `u${i}`,
        room: `rr${i}`,
      }));
      await nc.flush();
      const w = worker;
      // Warm-up (JIT), not counted.
      for (const s of [raw, relup, reducer, say])
        await w.call('rr', { subjects: s, total: total / 4, inflight: INFLIGHT, bytes: RR_BYTES });
      const runs = {
        raw: [] as number[],
        relup: [] as number[],
        say: [] as number[],
        reducer: [] as number[],
        rawNc: [] as number[],
        relupNc: [] as number[],
      };
      const lat = { raw: [] as LatencyStats[], relup: [] as LatencyStats[], say: [] as LatencyStats[] };
      const sayTotal = Math.round(total / 2);
      for (let r = 0; r < ctx.runs; r++) {
        runs.raw.push(await rrRate(w, raw, total));
        runs.relup.push(await rrRate(w, relup, total));
        runs.reducer.push(await rrRate(w, reducer, total));
        runs.say.push(await rrRate(w, say, sayTotal));
        runs.rawNc.push(await rrRate(w, raw, sayTotal, 'nc.request'));
        runs.relupNc.push(await rrRate(w, relup, sayTotal, 'nc.request'));
        lat.raw.push(await latency(w, raw[0] as string, seq));
        lat.relup.push(await latency(w, relup[0] as string, seq));
        lat.say.push(await latency(w, say[0] as string, seq));
        ctx.log(
          `  run ${r + 1}: raw ${Math.round(runs.raw[r] as number)}/s p99 ${lat.raw[r]?.p99.toFixed(3)} ms, ` +
            `relup ${Math.round(runs.relup[r] as number)}/s p99 ${lat.relup[r]?.p99.toFixed(3)} ms, ` +
            `say ${Math.round(runs.say[r] as number)}/s p99 ${lat.say[r]?.p99.toFixed(3)} ms`,
        );
      }
      ctx.notes.push(
        `Requester in a separate process (bench/lib/client-worker.ts, @nats-io/transport-node), ${RR_BYTES}-byte JSON requests. ` +
          'Requests are NATS request/reply on the wire (a publish with a reply subject) but correlated through one wildcard inbox ' +
          'subscription and one sweep timer, as Moleculer does, because nats.js v3 `nc.request` allocates a timer, a promise race and ' +
          'two Error objects (one with a stack trace) per request: measured with `nc.request`, the client process is the bottleneck ' +
          'for raw and relup alike (the `.nc-request` figure). ' +
          `Throughput: ${INFLIGHT} loops each with one request in flight on its own subject, ${total.toLocaleString('en')} requests per run ` +
          `(${sayTotal.toLocaleString('en')} for say). Latency: ${seq.toLocaleString('en')} sequential requests on one subject after 500 of warm-up. ` +
          `relup: ${INFLIGHT} sessions of the echo service (bench/releases/echo, \`echo\` replies \`{ ok, data }\` from the channel), opened by real connect requests; ` +
          `raw: ${INFLIGHT} subscriptions whose callback responds with the request's bytes. ` +
          `say: ${INFLIGHT} chat sessions, one per room (each say: channel → forward to the room actor → reply, plus one push).`,
      );
      const p = (k: 'raw' | 'relup' | 'say', f: 'p50' | 'p99') => lat[k].map((x) => x[f]);
      return [
        figure({
          name: 'rr.throughput',
          label: `requests/s, ${INFLIGHT} in flight (echo channels)`,
          unit: 'req/s',
          runs: runs.relup,
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: runs.raw,
          target: { on: 'ratio', op: '>=', limit: 0.85 },
        }),
        figure({
          name: 'rr.throughput.reducer',
          label: `requests/s, ${INFLIGHT} in flight, echo channels whose logic is a reducer (fromTransition)`,
          unit: 'req/s',
          runs: runs.reducer,
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: runs.raw,
        }),
        figure({
          name: 'rr.throughput.nc-request',
          label: `requests/s, ${INFLIGHT} in flight, client using nats.js \`nc.request\``,
          unit: 'req/s',
          runs: runs.relupNc,
          baselineLabel: 'raw NATS, `nc.request`',
          baselineRuns: runs.rawNc,
        }),
        figure({
          name: 'rr.latency.p50',
          label: 'sequential latency p50 (echo channel)',
          unit: 'ms',
          runs: p('relup', 'p50'),
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p('raw', 'p50'),
        }),
        figure({
          name: 'rr.latency.p99',
          label: 'sequential latency p99 (echo channel)',
          unit: 'ms',
          runs: p('relup', 'p99'),
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p('raw', 'p99'),
          target: { on: 'ratio', op: '<=', limit: 1.3 },
        }),
        figure({
          name: 'rr.chat-say.throughput',
          label: `chat say requests/s, ${INFLIGHT} in flight (channel → room actor)`,
          unit: 'req/s',
          runs: runs.say,
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: runs.raw,
        }),
        figure({
          name: 'rr.chat-say.latency.p50',
          label: 'chat say sequential latency p50',
          unit: 'ms',
          runs: p('say', 'p50'),
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p('raw', 'p50'),
        }),
        figure({
          name: 'rr.chat-say.latency.p99',
          label: 'chat say sequential latency p99',
          unit: 'ms',
          runs: p('say', 'p99'),
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p('raw', 'p99'),
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
