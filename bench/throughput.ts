// 1. One-way throughput: messages/s into channel actors against raw NATS publish → subscribe,
// same client library, same number of subjects and subscriptions, publisher in another process.
import type { NatsConnection } from '@nats-io/nats-core';
import type { ActorHost } from '../src/actors/actor-host.ts';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import { openChannels, startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { nowMs } from './lib/stats.ts';
import { Worker } from './lib/worker.ts';

const BYTES = 128;

/** Waits until `count()` reaches `n` (polled every 2 ms) or stops growing for 3 s; returns the time. */
export async function waitForCount(count: () => number, n: number): Promise<{ at: number; got: number }> {
  let last = -1;
  let lastChange = nowMs();
  for (;;) {
    const c = count();
    const t = nowMs();
    if (c >= n) return { at: t, got: c };
    if (c !== last) {
      last = c;
      lastChange = t;
    } else if (t - lastChange > 3000) return { at: lastChange, got: c };
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** `count` subscriptions whose callback only counts (raw NATS one way), and the count so far. */
export function rawCounters(
  nc: NatsConnection,
  prefix: string,
  count: number,
): { subjects: string[]; count: () => number } {
  let n = 0;
  const subjects = Array.from({ length: count }, (_, i) => `${prefix}.${i}`);
  for (const s of subjects)
    nc.subscribe(s, {
      callback: () => {
        n++;
      },
    });
  return { subjects, count: () => n };
}

/** One publish run of `count` messages over the subjects: the rate they were handled at and how many were lost. */
export async function oneRun(
  worker: Worker,
  subjects: string[],
  count: number,
  received: () => number,
): Promise<{ rate: number; lost: number }> {
  const before = received();
  const t0 = nowMs();
  const pub = worker.call('publish', { subjects, count, bytes: BYTES, type: 'tick' });
  const done = await waitForCount(() => received() - before, count);
  await pub;
  return { rate: (done.got / (done.at - t0)) * 1000, lost: count - done.got };
}

/** The one-way throughput benchmark. */
export const throughput: Bench = {
  id: 'throughput',
  title: '1. Throughput, one way',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const channels = ctx.quick ? 200 : 1000;
    const count = ctx.quick ? 100_000 : 300_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    const node = await startBenchNode(server.url, 'bench-throughput', 'echo');
    try {
      worker = await Worker.start(server.url);
      // relup: channel actors of the echo service; `tick` counts in the actor's context.
      const actors: ActorHost[] = await openChannels(node, 'echo', channels);
      const relupSubjects = actors.map((a) => node.subjects.session(a.id));
      const counter = (list: ActorHost[]) => () => {
        let n = 0;
        for (const a of list) n += a.handled;
        return n;
      };
      const handled = counter(actors);
      // The same channels with the logic written as a reducer (fromTransition), not a machine.
      const reducers = await openChannels(node, 'echor', channels);
      const reducerSubjects = reducers.map((a) => node.subjects.session(a.id));
      const reducerHandled = counter(reducers);
      // raw: the same client library, one subscription per subject, a callback that counts.
      nc = await connectNats({ servers: server.url, name: 'bench-raw' });
      const { subjects: rawSubjects, count: rawCount } = rawCounters(nc, 'bench.raw', channels);
      await nc.flush();
      const rawRuns: number[] = [];
      const relupRuns: number[] = [];
      const reducerRuns: number[] = [];
      let lost = 0;
      // Warm-up of both paths (JIT), not counted.
      await oneRun(worker, rawSubjects, count / 5, rawCount);
      await oneRun(worker, relupSubjects, count / 5, handled);
      await oneRun(worker, reducerSubjects, count / 5, reducerHandled);
      for (let r = 0; r < ctx.runs; r++) {
        const raw = await oneRun(worker, rawSubjects, count, rawCount);
        const rel = await oneRun(worker, relupSubjects, count, handled);
        const red = await oneRun(worker, reducerSubjects, count, reducerHandled);
        rawRuns.push(raw.rate);
        relupRuns.push(rel.rate);
        reducerRuns.push(red.rate);
        lost += raw.lost + rel.lost + red.lost;
        ctx.log(
          `  run ${r + 1}: raw ${Math.round(raw.rate)}/s, relup ${Math.round(rel.rate)}/s, relup (reducer logic) ${Math.round(red.rate)}/s`,
        );
      }
      ctx.notes.push(
        `${channels} subjects, ${count.toLocaleString('en')} messages of ${BYTES} bytes per run, published round-robin by a separate process ` +
          `(bench/lib/client-worker.ts); rate = messages handled / (time from the publish command to the last one handled). ` +
          `relup: echo channel actors (\`tick\` increments the context) opened through ServiceHost.openChannel; ` +
          `raw: a subscription per subject on its own connection whose callback counts. ` +
          '*reducer*: the same channels with the logic written as `fromTransition` (bench/releases/echo/1.0.0/echo-reducer.ts), to separate the runtime from the state machine algorithm.' +
          (lost > 0 ? ` ${lost} messages were not delivered within 3 s (slow consumer).` : ''),
      );
      return [
        figure({
          name: 'throughput.oneway',
          label: `messages/s into ${channels} channel actors`,
          unit: 'msg/s',
          runs: relupRuns,
          baselineLabel: 'raw NATS publish → subscribe',
          baselineRuns: rawRuns,
          target: { on: 'ratio', op: '>=', limit: 0.7 },
        }),
        figure({
          name: 'throughput.oneway.reducer',
          label: `messages/s into ${channels} channel actors whose logic is a reducer (fromTransition), not a machine`,
          unit: 'msg/s',
          runs: reducerRuns,
          baselineLabel: 'raw NATS publish → subscribe',
          baselineRuns: rawRuns,
        }),
      ];
    } finally {
      await worker?.stop();
      await nc?.close();
      await node.stop();
      await server.stop();
    }
  },
};
