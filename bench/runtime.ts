// 5. The compiled runtime against the sources through tsx: real `relup node` processes of the
// echo release, started alternately with RELUP_RUNTIME=dist and =tsx; boot time (spawn to
// accepting operator commands) and the node process's CPU per request under load.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { useDist } from '../bin/runtime.js';
import { connectNats } from '../src/nats/connect.ts';
import { startNats } from '../src/nats/local-server.ts';
import { subjects } from '../src/nats/subjects.ts';
import { ECHO_RELEASES } from './lib/nodes.ts';
import { type Bench, type BenchContext, type BenchResult, figure } from './lib/result.ts';
import { connectSessions } from './lib/sessions.ts';
import { nowMs } from './lib/stats.ts';
import { Worker } from './lib/worker.ts';
import { INFLIGHT, rrRate } from './request-reply.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

interface Started {
  pid: number;
  bootMs: number;
  stop(): Promise<void>;
}

/** Starts `relup node` on one runtime and resolves when it accepts operator commands. */
function startNode(url: string, id: string, runtime: 'dist' | 'tsx'): Promise<Started> {
  const t0 = nowMs();
  const child = spawn('node', [`${ROOT}bin/relup.js`, 'node'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      RELUP_NATS: url,
      RELUP_NODE: id,
      RELUP_RELEASES: ECHO_RELEASES,
      RELUP_RELEASE: '1.0.0',
      RELUP_RUNTIME: runtime,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('accepting operator commands'))
        resolve({
          pid: child.pid as number,
          bootMs: nowMs() - t0,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`relup node (${runtime}) exited before it was ready:\n${out}`)));
  });
}

/** The compiled-vs-tsx benchmark. */
export const runtime: Bench = {
  id: 'runtime',
  title: '5. Compiled runtime (dist/) against the sources through tsx',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    if (!useDist()) {
      ctx.log('  building dist/ (npm run build)');
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
    }
    const total = ctx.quick ? 20_000 : 60_000;
    const server = await startNats();
    let nc: NatsConnection | undefined;
    let worker: Worker | undefined;
    const live: Started[] = [];
    try {
      nc = await connectNats({ servers: server.url, name: 'bench-runtime' });
      worker = await Worker.start(server.url);
      const boot = { dist: [] as number[], tsx: [] as number[] };
      const rate = { dist: [] as number[], tsx: [] as number[] };
      const cpu = { dist: [] as number[], tsx: [] as number[] };
      for (let r = 0; r < ctx.runs; r++) {
        // Alternating which runtime starts first spreads the machine's drift over both.
        const order: ('dist' | 'tsx')[] = r % 2 === 0 ? ['dist', 'tsx'] : ['tsx', 'dist'];
        for (const mode of order) {
          const node = await startNode(server.url, `bench-rt-${mode}-${r}`, mode);
          live.push(node);
          boot[mode].push(node.bootMs);
          const sessions = await connectSessions(nc, subjects(), 'echo', INFLIGHT, () => ({}));
          await rrRate(worker, sessions, total / 4);
          const before = cpuSeconds(node.pid);
          const rps = await rrRate(worker, sessions, total);
          cpu[mode].push(((cpuSeconds(node.pid) - before) * 1e6) / total);
          rate[mode].push(rps);
          await node.stop();
          live.splice(live.indexOf(node), 1);
        }
        ctx.log(
          `  run ${r + 1}: boot dist ${boot.dist[r]?.toFixed(0)} ms, tsx ${boot.tsx[r]?.toFixed(0)} ms; ` +
            `cpu/request dist ${cpu.dist[r]?.toFixed(1)} µs, tsx ${cpu.tsx[r]?.toFixed(1)} µs`,
        );
      }
      ctx.notes.push(
        '`relup node` processes (bin/relup.js) of the echo release, RELUP_RUNTIME=dist (tsc output, tsx registered for the ' +
          'TypeScript release modules only) and RELUP_RUNTIME=tsx (the sources through tsx), started alternately, one at a time. ' +
          'Boot: from spawn to the log line `accepting operator commands` (NATS connect, buckets, release load included). ' +
          `CPU per request: user + system CPU of the node process (/proc/<pid>/stat) over ${total.toLocaleString('en')} echo requests ` +
          `with ${INFLIGHT} in flight, divided by the requests; the requester is a separate process.`,
      );
      return [
        figure({
          name: 'runtime.boot',
          label: '`relup node` boot time, compiled runtime',
          unit: 'ms',
          runs: boot.dist,
          baselineLabel: 'the sources through tsx',
          baselineRuns: boot.tsx,
        }),
        figure({
          name: 'runtime.cpu-per-request',
          label: 'node CPU per echo request, compiled runtime',
          unit: 'µs',
          runs: cpu.dist,
          baselineLabel: 'the sources through tsx',
          baselineRuns: cpu.tsx,
        }),
        figure({
          name: 'runtime.rr.throughput',
          label: `echo requests/s, ${INFLIGHT} in flight, compiled runtime`,
          unit: 'req/s',
          runs: rate.dist,
          baselineLabel: 'the sources through tsx',
          baselineRuns: rate.tsx,
        }),
      ];
    } finally {
      for (const n of live) await n.stop();
      await worker?.stop();
      await nc?.close();
      await server.stop();
    }
  },
};
