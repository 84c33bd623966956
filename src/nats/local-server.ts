import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNatsServerInstalled, freePort, spawnNatsServer } from './server-process.ts';

/** A local nats-server started for tests and the demo. */
export interface LocalNats {
  url: string;
  port: number;
  pid: number | undefined;
  /** Stops the server by its pid and removes its store dir (no-op for an external NATS_URL). */
  stop(): Promise<void>;
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
  const proc = await spawnNatsServer(args, { what: `nats-server on port ${port}` }).catch((err: unknown) => {
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    async stop() {
      await proc.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
