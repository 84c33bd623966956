import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerRequest, WorkerResponse } from './client-worker.ts';

const script = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/** A client process (bench/lib/client-worker.ts run through tsx) driven over IPC. */
export class Worker {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: WorkerResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`worker: ${m.error}`));
    });
    proc.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`worker exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks a client process and connects it to NATS. */
  static async start(url: string): Promise<Worker> {
    // BENCH_WORKER_PROF=<dir> profiles the client process too (node --cpu-prof).
    const prof = process.env.BENCH_WORKER_PROF;
    const execArgv = ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
    const proc = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = new Worker(proc);
    await w.call('connect', { url });
    return w;
  }

  /** Runs a command in the client process and resolves with its answer. */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error('worker has exited'));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, args } satisfies WorkerRequest);
    });
  }

  /** Closes the client's connection and ends the process (by its pid). */
  async stop(): Promise<void> {
    if (this.exited) return;
    await this.call('close').catch(() => {});
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  }
}
