// 14. Redundant pairs on real `relup node` processes: the sequencer example (a number handed out
// once in the cluster) as a warm pair n1/n2 with the default lease timing, and one client asking
// for the next number as fast as it can, resuming its session on whichever node answers after a
// failure. Measured: a forced failover (command → partner active on scan, and the client's
// longest wait), a SIGKILL of the active (kill → partner active on scan), a SIGKILL of the
// standby (the client's longest wait, against the same window with nothing happening), and
// across all of it whether an acknowledged number came back (state lost) or a session was refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../src/nats/codec.ts';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { PairTransitionEvent } from '../src/redundancy/pair-runner.ts';
import { Session } from '../src/services/client.ts';
import { type NodeProcess, spawnNode } from '../test/helpers/node-spawn.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { median, nowMs, percentile } from './lib/stats.ts';

const RELEASES = fileURLToPath(new URL('../examples/sequencer/releases', import.meta.url));
type Side = 'n1' | 'n2';
const other = (n: Side): Side => (n === 'n1' ? 'n2' : 'n1');

/** The client: numbers as they were acknowledged, when, and how often a resume was refused. */
class NumberClient {
  readonly got: number[] = [];
  readonly at: number[] = [];
  refused = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(nc: NatsConnection, session: Session) {
    this.done = (async () => {
      while (this.running) {
        try {
          const { n } = (await session.request({ type: 'next' })) as { n: number };
          this.got.push(n);
          this.at.push(nowMs());
        } catch {
          const r = await nc
            .request('relup.svc.sequencer.connect', encode({ session: session.id }), { timeout: 1000 })
            .then((m) => decode<{ ok: boolean; error?: { code: string } }>(m.data))
            .catch(() => undefined);
          if (r?.error?.code === 'UNKNOWN_SESSION') this.refused++;
          // No responders answers at once: do not spin while nobody serves.
          await new Promise((res) => setTimeout(res, 10));
        }
      }
    })();
  }

  /** The longest wait between two acknowledged numbers from index `from` on. */
  longestGap(from: number): number {
    let gap = 0;
    for (let i = Math.max(1, from); i < this.at.length; i++)
      gap = Math.max(gap, (this.at[i] as number) - (this.at[i - 1] as number));
    return gap;
  }

  /** Resolves once `more` numbers were acknowledged after now. */
  async waitFor(more: number): Promise<void> {
    const want = this.got.length + more;
    while (this.got.length < want) await new Promise((r) => setTimeout(r, 5));
  }

  /** Acknowledged numbers that came back (another node handed one out again): state lost. */
  repeated(): number {
    let n = 0;
    for (let i = 1; i < this.got.length; i++) if ((this.got[i] as number) <= (this.got[i - 1] as number)) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** The relup-node redundancy benchmark. */
export const redundancyNodes: Bench = {
  id: 'redundancy-nodes',
  title: '14. Redundant pairs on relup node processes: failover, hard failure, standby failure',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const server = await startNats();
    const logs = mkdtempSync(join(tmpdir(), 'relup-bench-pair-'));
    const procs: Partial<Record<Side, NodeProcess>> = {};
    const all: NodeProcess[] = [];
    let nc: NatsConnection | undefined;
    try {
      const boot = async (node: Side) => {
        procs[node] = await spawnNode({
          nats: server.url,
          node,
          release: '1.0.0',
          env: { RELUP_RELEASES: RELEASES, SEQUENCER_HOOK_LOG: join(logs, 'hooks.log') },
          onSpawn: (p) => all.push(p),
        });
      };
      const conn = await connectNats({ servers: server.url, name: 'bench-pair' });
      nc = conn;
      // Resolves when `node` reports a transition to active on scan (or standby).
      const waiting = new Map<string, () => void>();
      conn.subscribe('relup.pair.sequencer.evt', {
        callback: (err, msg) => {
          if (err) return;
          const e = decode<PairTransitionEvent>(msg.data);
          waiting.get(`${e.node}:${e.to}`)?.();
        },
      });
      const becomes = (node: Side, state: string) =>
        new Promise<void>((resolve) => {
          waiting.set(`${node}:${state}`, resolve);
        });
      const n1Up = becomes('n1', 'active on scan');
      await Promise.all([boot('n1'), boot('n2')]);
      await n1Up;
      const session = await Session.open(conn, 'sequencer', {}, { timeoutMs: 1000 });
      const client = new NumberClient(conn, session);
      await client.waitFor(50);
      let active: Side = 'n1';

      // Forced failover, back and forth.
      const switches: number[] = [];
      const switchGaps: number[] = [];
      for (let i = 0; i < (ctx.quick ? 5 : 10); i++) {
        const next = other(active);
        const up = becomes(next, 'active on scan');
        const from = client.at.length;
        const t0 = nowMs();
        await conn.request(`relup.pair.sequencer.${active}`, encode({ op: 'failover' }), { timeout: 10_000 });
        await up;
        switches.push(nowMs() - t0);
        await client.waitFor(50);
        switchGaps.push(client.longestGap(from));
        active = next;
      }

      // Standby SIGKILL: the client's longest wait in a window with it, and in one without.
      const quiet: number[] = [];
      const standbyKilled: number[] = [];
      for (let i = 0; i < (ctx.quick ? 2 : 3); i++) {
        let from = client.at.length;
        await new Promise((r) => setTimeout(r, 1000));
        quiet.push(client.longestGap(from));
        const standby = other(active);
        from = client.at.length;
        await procs[standby]?.signal('SIGKILL');
        await new Promise((r) => setTimeout(r, 1000));
        standbyKilled.push(client.longestGap(from));
        const back = becomes(standby, 'standby');
        await boot(standby);
        await back;
      }

      // SIGKILL of the active: kill → partner active on scan, and the client's wait.
      const takeovers: number[] = [];
      const killGaps: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const next = other(active);
        const up = becomes(next, 'active on scan');
        const from = client.at.length;
        const t0 = nowMs();
        await procs[active]?.signal('SIGKILL');
        await up;
        takeovers.push(nowMs() - t0);
        await client.waitFor(50);
        killGaps.push(client.longestGap(from));
        const back = becomes(active, 'standby');
        await boot(active);
        await back;
        active = next;
      }
      await client.stop();
      const lost = client.repeated();
      ctx.notes.push(
        "Two `relup node` processes (bin/relup.js) serving examples/sequencer as a warm pair, default lease timing (beat 250 ms, renew deadline 1 s, lease 1.5 s), one client asking for the next number back to back and resuming its session after a failure. Forced failover: from the operator command to the partner's transition event to active on scan. Hard failure: from SIGKILL to that event; the figure is bounded below by the lease (the partner must see 1.5 s of silence on its own clock). Standby failure: the client's longest wait in 1 s with the standby SIGKILLed, against 1 s with nothing happening. Lost: an acknowledged number handed out again by the next active.",
      );
      ctx.log(
        `  forced failover p50 ${median(switches).toFixed(1)} ms p99 ${percentile(switches, 99).toFixed(1)} ms; client wait p99 ${percentile(switchGaps, 99).toFixed(0)} ms`,
      );
      ctx.log(
        `  SIGKILL active: ${takeovers.map((x) => x.toFixed(0)).join(', ')} ms; lost ${lost}, refused ${client.refused}`,
      );
      return [
        figure({
          name: 'redundancy.node.forced_failover.p99',
          label: 'relup node pair: forced failover, command to the partner active on scan, p99',
          unit: 'ms',
          runs: [percentile(switches, 99)],
          target: { on: 'value', op: '<=', limit: 100 },
          note: `p50 ${median(switches).toFixed(1)} ms over ${switches.length} switches; the client's longest wait p50 ${median(switchGaps).toFixed(0)} ms, p99 ${percentile(switchGaps, 99).toFixed(0)} ms (it resumes its session on the new active)`,
        }),
        figure({
          name: 'redundancy.node.hard_failure.warm.p99',
          label: 'relup node pair: SIGKILL of the active (warm), to the backup active on scan, p99',
          unit: 'ms',
          runs: [percentile(takeovers, 99)],
          target: { on: 'value', op: '<=', limit: 2000 },
          note: `runs ${takeovers.map((x) => x.toFixed(0)).join(', ')} ms; lease 1.5 s; the client's longest wait p50 ${median(killGaps).toFixed(0)} ms`,
        }),
        figure({
          name: 'redundancy.node.standby_failure.pause',
          label: "relup node pair: the client's longest wait on the active while the standby is SIGKILLed",
          unit: 'ms',
          runs: standbyKilled,
          baselineLabel: 'the same 1 s window with nothing happening',
          baselineRuns: quiet,
          note: 'a ratio near 1 is no pause; both are sub-10 ms tails of a sequential client on a shared machine',
        }),
        figure({
          name: 'redundancy.node.lost',
          label: 'acknowledged numbers handed out again (state lost), over every failover and kill',
          unit: 'numbers',
          runs: [lost],
          target: { on: 'value', op: '<=', limit: 0 },
          note: `${client.got.length} numbers acknowledged; sessions refused on resume: ${client.refused}`,
        }),
        figure({
          name: 'redundancy.node.sessions_dropped',
          label: 'session resumes refused (UNKNOWN_SESSION), over every failover and kill',
          unit: 'sessions',
          runs: [client.refused],
          target: { on: 'value', op: '<=', limit: 0 },
        }),
      ];
    } finally {
      await Promise.all(all.map((p) => p.signal('SIGKILL')));
      await nc?.close().catch(() => {});
      await server.stop();
      rmSync(logs, { recursive: true, force: true });
    }
  },
};
