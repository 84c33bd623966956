import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelupError } from '../errors.ts';
import { assertNatsServerInstalled, freePort, spawnNatsServer } from './server-process.ts';

/** A local nats-server started for tests and the demo. */
export interface LocalNats {
  url: string;
  port: number;
  pid: number | undefined;
  /** Stops the server by its pid and removes its store dir (no-op for an external NATS_URL). */
  stop(): Promise<void>;
  /**
   * Stops the server by its pid (SIGTERM), then starts it again on the same port and store dir,
   * so JetStream comes back with its streams: an outage of the server, not a new one.
   */
  restart(): Promise<void>;
}

/**
 * Starts a real nats-server (random free port, JetStream on, temporary store dir) and waits
 * until it accepts connections. With NATS_URL set, uses that server instead.
 */
export async function startNats(opts: { config?: string; args?: string[] } = {}): Promise<LocalNats> {
  const external = process.env.NATS_URL;
  if (external && !opts.config) {
    const unsupported = async () => {
      throw new RelupError('BAD_OPTIONS', 'an external NATS_URL server cannot be restarted by a test');
    };
    return {
      url: external,
      port: Number(new URL(external).port),
      pid: undefined,
      stop: async () => {},
      restart: unsupported,
    };
  }
  assertNatsServerInstalled();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'relup-nats-'));
  const args = opts.config
    ? ['-c', opts.config, '-p', String(port), '-a', '127.0.0.1', '-sd', storeDir]
    : ['-js', '-p', String(port), '-a', '127.0.0.1', '-sd', storeDir, ...(opts.args ?? [])];
  const what = `nats-server on port ${port}`;
  let proc = await spawnNatsServer(args, { what }).catch((err: unknown) => {
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc.pid;
    },
    async stop() {
      await proc.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await proc.stop();
      proc = await spawnNatsServer(args, { what });
    },
  };
}
