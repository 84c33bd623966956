// 13. Redundant pairs: how long a pair is without an active on scan. Two runners of one warm (or
// legacy) pair in this process, each on its own connection to a local nats-server, default lease
// timing (beat 250 ms, renew deadline 1 s, lease 1.5 s). Forced failover: from the command on
// the active to the partner's transition to active on scan. Hard failure: the active stops dead
// (no hook, no release, as SIGKILL) and the clock runs until the partner is active on scan.
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import type { RedundancyMode } from '../src/redundancy/pair-machine.ts';
import { PairRunner } from '../src/redundancy/pair-runner.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { nowMs, percentile } from './lib/stats.ts';

type Side = 'a' | 'b';

/** A pair whose transitions to active on scan resolve waiters, by node. */
async function startPair(conns: NatsConnection[], url: string, service: string, mode: RedundancyMode) {
  const waiting = new Map<string, () => void>();
  const onScan = (node: string) =>
    new Promise<void>((resolve) => {
      waiting.set(node, resolve);
    });
  const start = async (node: Side) => {
    const nc = await connectNats({ servers: url, name: node });
    conns.push(nc);
    return PairRunner.start(
      nc,
      {
        service,
        node,
        primary: 'a',
        backup: 'b',
        mode,
        onTransition: (e) => {
          if (e.to === 'active on scan') waiting.get(e.node)?.();
        },
      },
      'deploy',
    );
  };
  const aUp = onScan('a');
  const runners = { a: await start('a'), b: await start('b') };
  await aUp;
  return { runners, onScan, start };
}

/** The redundancy benchmark. */
export const redundancy: Bench = {
  id: 'redundancy',
  title: '13. Redundant pairs: forced failover and hard failure of the active',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const server = await startNats();
    const conns: NatsConnection[] = [];
    const out: BenchResult[] = [];
    try {
      // Forced failover, back and forth on one pair.
      const ff = await startPair(conns, server.url, 'bench-ff', 'warm');
      const switches: number[] = [];
      let active: Side = 'a';
      for (let i = 0; i < (ctx.quick ? 20 : 60); i++) {
        const next: Side = active === 'a' ? 'b' : 'a';
        const up = ff.onScan(next);
        const t0 = nowMs();
        await ff.runners[active].failover();
        await up;
        switches.push(nowMs() - t0);
        active = next;
        // The releaser waits a lease before it could campaign again; it stays standby meanwhile.
        await new Promise((r) => setTimeout(r, 20));
      }
      ctx.log(
        `  forced failover p50 ${percentile(switches, 50).toFixed(1)} ms, p99 ${percentile(switches, 99).toFixed(1)} ms`,
      );
      out.push(
        figure({
          name: 'redundancy.forced_failover.p99',
          label: 'forced failover, command to the partner active on scan, p99',
          unit: 'ms',
          runs: [percentile(switches, 99)],
          target: { on: 'value', op: '<=', limit: 100 },
          note: `p50 ${percentile(switches, 50).toFixed(1)} ms over ${switches.length} switches`,
        }),
      );
      for (const r of Object.values(ff.runners)) r.abandon();

      // Hard failure of the active, each run a fresh pair.
      for (const [mode, limit] of [
        ['warm', 2000],
        ['legacy', 3000],
      ] as const) {
        const runs: number[] = [];
        for (let i = 0; i < ctx.runs; i++) {
          const p = await startPair(conns, server.url, `bench-hf-${mode}-${i}`, mode);
          // Let the backup settle as standby (it waits a lease before it would create a new pair).
          await new Promise((r) => setTimeout(r, 200));
          const up = p.onScan('b');
          const t0 = nowMs();
          p.runners.a.abandon();
          await up;
          runs.push(nowMs() - t0);
          p.runners.b.abandon();
        }
        ctx.log(`  hard failure ${mode}: ${runs.map((x) => x.toFixed(0)).join(', ')} ms`);
        out.push(
          figure({
            name: `redundancy.hard_failure.${mode}`,
            label: `hard failure of the active (${mode}), to the backup active on scan`,
            unit: 'ms',
            runs,
            target: { on: 'value', op: '<=', limit },
            note: `max ${Math.max(...runs).toFixed(0)} ms over ${runs.length} runs; lease 1.5 s`,
          }),
        );
      }
      ctx.notes.push(
        'Two runners of one pair in one process on a local nats-server, default lease timing (beat 250 ms, renew deadline 1 s, lease 1.5 s); hooks are empty, so the legacy figure holds no service start time.',
      );
      return out;
    } finally {
      await Promise.all(conns.map((c) => c.close().catch(() => {})));
      await server.stop();
    }
  },
};
