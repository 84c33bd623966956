// 9. Hot vs cold: the same version change (chat 1.0.0 ↔ 1.1.0) done by stopping the node and
// starting the other version (what users do today) against the hot upgrade, under a steady
// open-loop load of half the measured capacity: gap in service, messages lost, sessions dropped.
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { RelupNode } from '../src/node/relup-node.ts';
import type { LoadStats } from './lib/client-worker.ts';
import { startBenchNode } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { closeSessions, connectSessions } from './lib/sessions.ts';
import { Worker } from './lib/worker.ts';
import { rrRate } from './request-reply.ts';
import { timedUpgrade } from './upgrade-pause.ts';

const SESSIONS = 100;
const ROOMS = 100;
const NODE = 'bench-hvc';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The hot-vs-cold benchmark. */
export const hotVsCold: Bench = {
  id: 'hot-vs-cold',
  title: '9. Hot upgrade vs cold restart under load',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const runs = ctx.quick ? 2 : 3;
    const settle = ctx.quick ? 1000 : 2000;
    const server = await startNats();
    let node: RelupNode = await startBenchNode(server.url, NODE, 'chat');
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    try {
      nc = await connectNats({ servers: server.url, name: 'bench-connect' });
      worker = await Worker.start(server.url);
      const w = worker;
      // Capacity, closed loop: chat say, 100 in flight, one session per room (as benchmark 2).
      const probe = await connectSessions(nc, node.subjects, 'chat', SESSIONS, (i) => ({
        user: `cap${i}`,
        room: `load${i % ROOMS}`,
      }));
      await rrRate(w, probe, 10_000);
      const closed = await rrRate(w, probe, ctx.quick ? 20_000 : 40_000);
      await closeSessions(nc, probe);
      // Capacity, open loop: the load is sent on a schedule, in small batches, which costs the node
      // two to three times the CPU per request of the closed loop's large batches. The highest
      // rate kept up with (no failure, p99 ≤ 50 ms) is the capacity for this kind of load.
      const loadArgs = (rate: number) => ({
        connectSubject: node.subjects.connect('chat'),
        sessionPrefix: node.subjects.session(''),
        sessions: SESSIONS,
        rate,
        rooms: ROOMS,
        timeoutMs: 5000,
      });
      // Warm-up of the load path (JIT of the client and of the node), not counted.
      await w.call('loadStart', loadArgs(Math.round(closed * 0.1)));
      await sleep(500);
      await w.call('loadStop');
      let open = 0;
      const ramp: string[] = [];
      for (const f of [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]) {
        const rate = Math.round(closed * f);
        await w.call('loadStart', loadArgs(rate));
        await sleep(ctx.quick ? 1000 : 1500);
        const st = await w.call<LoadStats>('loadStop');
        const ok = st.failed === 0 && st.p99 <= 50;
        ramp.push(`${rate}/s: p99 ${st.p99.toFixed(1)} ms${st.failed > 0 ? `, ${st.failed} failed` : ''}`);
        if (!ok) break;
        open = rate;
      }
      if (open === 0) open = Math.round(closed * 0.1);
      const rate = Math.round(open / 2);
      ctx.log(
        `  capacity closed loop ${Math.round(closed)}/s, open loop ${open}/s (${ramp.join('; ')}); load ${rate}/s`,
      );
      let version = '1.0.0';
      const other = () => (version === '1.0.0' ? '1.1.0' : '1.0.0');
      const changeErrors: string[] = [];
      const measure = async (change: () => Promise<void>): Promise<LoadStats> => {
        await w.call('loadStart', loadArgs(rate));
        await sleep(settle);
        try {
          await change();
        } catch (err) {
          // A change that fails is a result (counted in the notes), not a broken benchmark.
          changeErrors.push(String((err as Error)?.message ?? err));
          version = node.release.version;
        }
        await sleep(settle);
        return w.call<LoadStats>('loadStop');
      };
      const idle: LoadStats[] = [];
      const hot: LoadStats[] = [];
      const cold: LoadStats[] = [];
      const hotPause: number[] = [];
      const coldDown: number[] = [];
      for (let r = 0; r < runs; r++) {
        // Control: the same load and window with no change, the noise floor of the gap.
        idle.push(await measure(async () => {}));
        hot.push(
          await measure(async () => {
            const u = await timedUpgrade(node, other());
            hotPause.push(u.pause);
            version = other();
          }),
        );
        cold.push(
          await measure(async () => {
            const t0 = performance.now();
            await node.stop();
            node = await startBenchNode(server.url, NODE, 'chat', other());
            coldDown.push(performance.now() - t0);
            version = other();
          }),
        );
        const h = hot[r] as LoadStats;
        const c = cold[r] as LoadStats;
        ctx.log(
          `  run ${r + 1}: hot sent ${h.sent} gap ${h.maxGapMs.toFixed(0)} ms lost ${h.failed} dropped ${h.dropped} ${JSON.stringify(h.failures)}; ` +
            `cold sent ${c.sent} gap ${c.maxGapMs.toFixed(0)} ms lost ${c.failed} dropped ${c.dropped} ${JSON.stringify(c.failures)}`,
        );
      }
      const sum = (xs: LoadStats[], f: (s: LoadStats) => number) => xs.reduce((a, s) => a + f(s), 0);
      ctx.notes.push(
        `Capacity measured first: closed loop ${Math.round(closed).toLocaleString('en')} say/s (chat say, ${SESSIONS} in flight, one session per room, as in benchmark 2); ` +
          `open loop (rates rising from 10% of that, ${ctx.quick ? 1 : 1.5} s each, the highest with no failure and p99 ≤ 50 ms): ${open.toLocaleString('en')} say/s — ${ramp.join('; ')}. ` +
          'The load is sent open-loop (on a fixed schedule, whatever the replies), in small batches that cost the node 2–3× the CPU per request of the closed loop, ' +
          'so half the closed-loop capacity would already saturate the node; the load is half the open-loop capacity: ' +
          `${rate.toLocaleString('en')} say/s from ${SESSIONS} sessions (one per room) in a separate process, ` +
          `request timeout 5 s. Each run: ${settle} ms of load, the version change, ${settle} ms more. ` +
          'Hot: `node.upgrade({ to })`. Cold: `node.stop()` (graceful: channels end, clients get a `closed` push) then `startNode` with the other release, same node id; ' +
          'a client whose session was dropped connects again (retrying every 20 ms until the new node answers). ' +
          'Gap = longest time without any successful reply; lost = requests that got no successful reply (errors, timeouts, and requests due while the session was reconnecting); ' +
          'dropped = sessions the server closed. ' +
          `Totals over ${runs} runs: hot sent ${sum(hot, (s) => s.sent)}, lost ${sum(hot, (s) => s.failed)}, dropped ${sum(hot, (s) => s.dropped)}; ` +
          `cold sent ${sum(cold, (s) => s.sent)}, lost ${sum(cold, (s) => s.failed)}, dropped ${sum(cold, (s) => s.dropped)}. ` +
          `Hot pause (UpgradeReport.pauseMs) ${hotPause.map((p) => p.toFixed(0)).join(', ')} ms; cold stop + start ${coldDown.map((p) => p.toFixed(0)).join(', ')} ms. ` +
          `Cold failures by kind: ${JSON.stringify(cold.map((c) => c.failures))}. Hot failures by kind: ${JSON.stringify(hot.map((c) => c.failures))}.` +
          (changeErrors.length > 0 ? ` **Changes that failed:** ${changeErrors.join('; ')}.` : ''),
      );
      return [
        figure({
          name: 'hvc.gap',
          label: 'gap in service during the version change (hot upgrade)',
          unit: 'ms',
          runs: hot.map((s) => s.maxGapMs),
          baselineLabel: 'cold: stop node, start new version',
          baselineRuns: cold.map((s) => s.maxGapMs),
        }),
        figure({
          name: 'hvc.gap.no-change',
          label: 'longest gap in the same window with no version change (noise floor of the gap)',
          unit: 'ms',
          runs: idle.map((s) => s.maxGapMs),
        }),
        figure({
          name: 'hvc.lost',
          label: 'messages lost (hot upgrade)',
          unit: 'msgs',
          runs: hot.map((s) => s.failed),
          baselineLabel: 'cold restart',
          baselineRuns: cold.map((s) => s.failed),
          target: { on: 'value', op: '<=', limit: 0 },
        }),
        figure({
          name: 'hvc.dropped',
          label: 'sessions dropped (hot upgrade)',
          unit: 'sessions',
          runs: hot.map((s) => s.dropped),
          baselineLabel: 'cold restart',
          baselineRuns: cold.map((s) => s.dropped),
          target: { on: 'value', op: '<=', limit: 0 },
        }),
        figure({
          name: 'hvc.max-latency',
          label: 'slowest successful request (hot upgrade)',
          unit: 'ms',
          runs: hot.map((s) => s.maxLatencyMs),
          baselineLabel: 'cold restart',
          baselineRuns: cold.map((s) => s.maxLatencyMs),
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
