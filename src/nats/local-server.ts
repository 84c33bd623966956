import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelupError } from '../errors.ts';

/** A local nats-server started for tests and the demo. */
export interface LocalNats {
  url: string;
  port: number;
  pid: number | undefined;
  /** Stops the server by its pid and removes its store dir (no-op for an external NATS_URL). */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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
 * Starts a real nats-server (random free port, JetStream on, temporary store dir) and waits
 * until it accepts connections. With NATS_URL set, uses that server instead.
 */
export async function startNats(opts: { config?: string; args?: string[] } = {}): Promise<LocalNats> {
  const external = process.env.NATS_URL;
  if (external && !opts.config) {
    return { url: external, port: Number(new URL(external).port), pid: undefined, stop: async () => {} };
  }
  assertNatsServerInstalled();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'relup-nats-'));
  const args = opts.config
    ? ['-c', opts.config, '-p', String(port), '-a', '127.0.0.1', '-sd', storeDir]
    : ['-js', '-p', String(port), '-a', '127.0.0.1', '-sd', storeDir, ...(opts.args ?? [])];
  const proc: ChildProcess = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // nats-server logs "Server is ready" on stderr once it accepts clients: wait for that line.
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`nats-server did not become ready on port ${port} within 10 s:\n${stderr}`));
    }, 10_000);
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  let alive = true;
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      alive = false;
      resolve();
    }),
  );
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    async stop() {
      if (alive && proc.pid) process.kill(proc.pid, 'SIGTERM');
      await exited;
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
