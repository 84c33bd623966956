import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { RelupError } from '../errors.ts';

/** A nats-server child process: signalled and stopped by its pid only. */
export interface NatsServerProcess {
  /** The process id. */
  readonly pid: number;
  /** Resolves once the process has exited, whatever ended it. */
  readonly exited: Promise<void>;
  /** Whether the process has not exited yet. */
  alive(): boolean;
  /** What the server wrote on stderr so far (its log). */
  log(): string;
  /** Sends a signal to the pid; a no-op once the process has exited. */
  signal(signal: NodeJS.Signals): void;
  /** Resumes the process if paused, sends SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

// Every server still running when this process exits is killed, so a crashed test leaves none behind.
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Throws a clear error naming the install command when nats-server is not on PATH. */
export function assertNatsServerInstalled(): void {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error) {
    throw new RelupError(
      'NATS_SERVER_MISSING',
      'nats-server is not installed or not on PATH. Install it with: apt-get update && apt-get install -y nats-server ' +
        '(or set NATS_URL to use a running server)',
    );
  }
}

/**
 * Spawns nats-server with `args` and resolves once it logs that it accepts clients. A server
 * that exits first or is not ready within `timeoutMs` is killed and the start rejects with
 * NATS_UNAVAILABLE carrying its log.
 */
export async function spawnNatsServer(
  args: string[],
  opts: { what?: string; timeoutMs?: number } = {},
): Promise<NatsServerProcess> {
  const what = opts.what ?? 'nats-server';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const proc: ChildProcess = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = proc.pid;
  if (pid === undefined) throw new RelupError('NATS_UNAVAILABLE', `${what} could not be spawned`);
  running.add(pid);
  let alive = true;
  let stderr = '';
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      alive = false;
      running.delete(pid);
      resolve();
    }),
  );
  const signal = (sig: NodeJS.Signals) => {
    if (!alive) return;
    try {
      process.kill(pid, sig);
    } catch {}
  };
  // nats-server logs "Server is ready" on stderr once it accepts clients: wait for that line.
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      signal('SIGKILL');
      reject(new RelupError('NATS_UNAVAILABLE', `${what} ${why}:\n${stderr}`, { args }));
    };
    const timer = setTimeout(() => fail(`did not become ready within ${timeoutMs} ms`), timeoutMs);
    proc.stderr?.on('data', (d: Buffer) => {
      // The tail is enough to explain a failure; a long-running server must not grow without bound.
      stderr = (stderr + d.toString()).slice(-64_000);
      if (stderr.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => fail(`exited (${code}) before it was ready`));
  }).catch(async (err: unknown) => {
    await exited;
    throw err;
  });
  return {
    pid,
    exited,
    alive: () => alive,
    log: () => stderr,
    signal,
    async stop(graceMs = 5_000) {
      signal('SIGCONT');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
