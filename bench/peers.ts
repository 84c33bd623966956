// 4. Baselines and peers in one run: relup's echo channels against raw NATS (the limit), the
// same work written by hand (a NATS subscription per session whose callback decodes JSON, runs
// the echo machine with xstate's `transition()` and replies), the NATS micro services framework
// with an echo endpoint, and one xstate `createActor` per session on NATS.
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { type AnyActorLogic, createActor, type EventObject, initialTransition, transition } from 'xstate';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import { openChannels, startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { connectSessions, rawResponders } from './lib/sessions.ts';
import { Worker } from './lib/worker.ts';
import echo from './releases/echo/1.0.0/echo.ts';
import { INFLIGHT, latency, rrRate } from './request-reply.ts';
import { oneRun, rawCounters } from './throughput.ts';

const machine = echo.channel as AnyActorLogic;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** What an emitted `reply` answers: the event without its type. */
function replyBody(emitted: EventObject): string {
  const { type: _t, ...body } = emitted;
  return JSON.stringify(body);
}

/** Servers of `count` sessions, one subscription each; `session()` makes one session's message handler. */
function servers(
  nc: NatsConnection,
  prefix: string,
  count: number,
  session: () => (msg: Msg) => void,
): { subjects: string[]; handled(): number } {
  let handled = 0;
  const subjects: string[] = [];
  for (let i = 0; i < count; i++) {
    const subject = `${prefix}.${i}`;
    const handle = session();
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        handle(msg);
        handled++;
      },
    });
    subjects.push(subject);
  }
  return { subjects, handled: () => handled };
}

/** The same work by hand: the snapshot in a closure, xstate's `transition()`, the emitted reply responded. */
function byHand(): (msg: Msg) => void {
  let [snapshot] = initialTransition(machine, undefined);
  return (msg) => {
    const event = JSON.parse(dec.decode(msg.data)) as EventObject;
    const [next, actions] = transition(machine, snapshot, event as never);
    snapshot = next;
    for (const a of actions as { type: string; params?: unknown }[]) {
      const emitted = (a.params as { event?: EventObject } | undefined)?.event;
      if (a.type === 'xstate.emit' && emitted?.type === 'reply') msg.respond(replyBody(emitted));
    }
  };
}

/** One running xstate actor per session, answering the message it is handling when it emits `reply`. */
function actorPerSession(): (msg: Msg) => void {
  const actor = createActor(machine).start();
  let current: Msg | undefined;
  actor.on('reply', (e) => current?.respond(replyBody(e as EventObject)));
  return (msg) => {
    current = msg;
    actor.send(JSON.parse(dec.decode(msg.data)) as never);
    current = undefined;
  };
}

/** The peers benchmark. */
export const peers: Bench = {
  id: 'peers',
  title: '4. Baselines and peers: by hand, @nats-io/services, createActor per session',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const total = ctx.quick ? 20_000 : 60_000;
    const seq = ctx.quick ? 2_000 : 5_000;
    const channels = ctx.quick ? 200 : 1000;
    const count = ctx.quick ? 100_000 : 300_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let peerNc: NatsConnection | undefined;
    let worker: Worker | undefined;
    const node = await startBenchNode(server.url, 'bench-peers', 'echo');
    try {
      nc = await connectNats({ servers: server.url, name: 'bench-raw' });
      // The peers share one connection of their own, like the relup node has its own.
      peerNc = await connectNats({ servers: server.url, name: 'bench-peers' });
      worker = await Worker.start(server.url);
      const w = worker;
      const raw = rawResponders(nc, 'bench.raw', INFLIGHT);
      const relup = await connectSessions(nc, node.subjects, 'echo', INFLIGHT, () => ({}));
      const hand = servers(peerNc, 'bench.hand', INFLIGHT, byHand);
      const actors = servers(peerNc, 'bench.actor', INFLIGHT, actorPerSession);
      const svc = await new Svcm(peerNc as never).add({ name: 'echo', version: '1.0.0' });
      svc.addEndpoint('echo', {
        subject: 'bench.svc.echo',
        handler: (_err, msg) => {
          const event = JSON.parse(dec.decode(msg.data)) as { data?: unknown };
          msg.respond(enc.encode(JSON.stringify({ ok: true, data: event.data })));
        },
      });
      const services = ['bench.svc.echo'];
      // One way: the same counts of subjects, `tick` counted in the channel's context.
      const relupActors = await openChannels(node, 'echo', channels);
      const relupOne = relupActors.map((a) => node.subjects.session(a.id));
      const relupHandled = () => relupActors.reduce((n, a) => n + a.handled, 0);
      const handOne = servers(peerNc, 'bench.hand1', channels, byHand);
      const actorOne = servers(peerNc, 'bench.actor1', channels, actorPerSession);
      const rawOne = rawCounters(nc, 'bench.raw1', channels);
      await nc.flush();
      await peerNc.flush();
      const rr = { raw: raw, relup, hand: hand.subjects, services, actors: actors.subjects };
      type Rr = keyof typeof rr;
      const ones = {
        raw: [rawOne.subjects, rawOne.count],
        relup: [relupOne, relupHandled],
        hand: [handOne.subjects, handOne.handled],
        actors: [actorOne.subjects, actorOne.handled],
      } as const;
      type One = keyof typeof ones;
      // Warm-up (JIT), not counted.
      for (const k of Object.keys(rr) as Rr[]) await rrRate(w, rr[k], total / 4);
      for (const k of Object.keys(ones) as One[]) await oneRun(w, ones[k][0], count / 5, ones[k][1]);
      const rate = Object.fromEntries(Object.keys(rr).map((k) => [k, [] as number[]])) as Record<
        Rr,
        number[]
      >;
      const p99 = Object.fromEntries(Object.keys(rr).map((k) => [k, [] as number[]])) as Record<Rr, number[]>;
      const one = Object.fromEntries(Object.keys(ones).map((k) => [k, [] as number[]])) as Record<
        One,
        number[]
      >;
      for (let r = 0; r < ctx.runs; r++) {
        for (const k of Object.keys(rr) as Rr[]) rate[k].push(await rrRate(w, rr[k], total));
        for (const k of Object.keys(rr) as Rr[]) p99[k].push((await latency(w, rr[k][0] as string, seq)).p99);
        for (const k of Object.keys(ones) as One[])
          one[k].push((await oneRun(w, ones[k][0], count, ones[k][1])).rate);
        ctx.log(
          `  run ${r + 1}: req/s ${(Object.keys(rr) as Rr[]).map((k) => `${k} ${Math.round(rate[k][r] as number)}`).join(', ')}; ` +
            `one-way msg/s ${(Object.keys(ones) as One[]).map((k) => `${k} ${Math.round(one[k][r] as number)}`).join(', ')}`,
        );
      }
      ctx.notes.push(
        `Request/reply as benchmark 2 (${INFLIGHT} in flight, ${total.toLocaleString('en')} per run, lean requester; p99 of ${seq.toLocaleString('en')} sequential requests); ` +
          `one way as benchmark 1 (${channels} subjects, ${count.toLocaleString('en')} messages per run). Everything in one run, servers in this process: ` +
          'relup: echo channels of a node; *by hand*: a subscription per session whose callback decodes the JSON, runs the echo machine with ' +
          "xstate's `transition()` (snapshot kept in the closure) and responds with the emitted reply; *@nats-io/services*: one `echo` endpoint " +
          '(decodes, answers `{ ok, data }`), all loops on its one subject; *createActor*: one started xstate actor per session, ' +
          "`actor.on('reply')` responding to the message being handled. The by-hand, services and actor servers share one connection.",
      );
      const vs = (
        name: string,
        label: string,
        k: Rr,
        baselineLabel: string,
        base: number[],
        limit?: number,
      ) =>
        figure({
          name,
          label,
          unit: 'req/s',
          runs: rate[k],
          baselineLabel,
          baselineRuns: base,
          ...(limit !== undefined && { target: { on: 'ratio' as const, op: '>=' as const, limit } }),
        });
      return [
        vs(
          'peers.rr.relup-vs-raw',
          'relup echo requests/s against raw NATS',
          'relup',
          'raw NATS request/reply',
          rate.raw,
          0.7,
        ),
        vs(
          'peers.rr.relup-vs-hand',
          'relup echo requests/s against the same work by hand',
          'relup',
          'by hand: subscription + transition()',
          rate.hand,
          0.9,
        ),
        vs(
          'peers.rr.relup-vs-services',
          'relup echo requests/s against @nats-io/services',
          'relup',
          '@nats-io/services echo endpoint',
          rate.services,
          1,
        ),
        vs(
          'peers.rr.relup-vs-actors',
          'relup echo requests/s against createActor per session',
          'relup',
          'xstate createActor per session',
          rate.actors,
          1,
        ),
        vs(
          'peers.rr.hand-vs-raw',
          'by hand requests/s against raw NATS',
          'hand',
          'raw NATS request/reply',
          rate.raw,
        ),
        figure({
          name: 'peers.rr.p99',
          label: 'sequential latency p99, relup echo channel',
          unit: 'ms',
          runs: p99.relup,
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p99.raw,
          target: { on: 'ratio', op: '<=', limit: 1.1 },
        }),
        figure({
          name: 'peers.rr.p99.hand',
          label: 'sequential latency p99, by hand',
          unit: 'ms',
          runs: p99.hand,
          baselineLabel: 'raw NATS request/reply',
          baselineRuns: p99.raw,
        }),
        figure({
          name: 'peers.oneway.relup-vs-raw',
          label: `one-way messages/s into ${channels} echo channels against raw NATS`,
          unit: 'msg/s',
          runs: one.relup,
          baselineLabel: 'raw NATS publish → subscribe',
          baselineRuns: one.raw,
          target: { on: 'ratio', op: '>=', limit: 0.4 },
        }),
        figure({
          name: 'peers.oneway.relup-vs-hand',
          label: `one-way messages/s into ${channels} echo channels against the same work by hand`,
          unit: 'msg/s',
          runs: one.relup,
          baselineLabel: 'by hand: subscription + transition()',
          baselineRuns: one.hand,
          target: { on: 'ratio', op: '>=', limit: 0.9 },
        }),
        figure({
          name: 'peers.oneway.relup-vs-actors',
          label: `one-way messages/s into ${channels} echo channels against createActor per session`,
          unit: 'msg/s',
          runs: one.relup,
          baselineLabel: 'xstate createActor per session',
          baselineRuns: one.actors,
        }),
      ];
    } finally {
      await worker?.stop();
      await peerNc?.close();
      await nc?.close();
      await node.stop();
      await server.stop();
    }
  },
};
