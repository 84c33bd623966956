import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { useNats } from '../helpers/nats-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/relup.js`;

describe('relup node (the command line)', () => {
  const nats = useNats();

  it('refuses bad or missing options with a message and exit code 2', () => {
    const missing = spawnSync('node', [BIN, 'node', '--nats', 'nats://x'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--node/);
    const bad = spawnSync('node', [BIN, 'node', '--nats', 'nats://x', '--node', 'a.b', '--releases', 'x'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/subject-safe/);
    const replicas = spawnSync(
      'node',
      [BIN, 'node', '--nats', 'nats://x', '--node', 'a', '--releases', 'x', '--replicas', '0'],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(replicas.status).toBe(2);
    expect(replicas.stderr).toMatch(/replicas must be an integer from 1 to 5/);
  });

  it('runs a node from environment variables, answers commands, and stops gracefully on SIGTERM', async () => {
    const child = spawn('node', [BIN, 'node'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        RELUP_NATS: nats.server().url,
        RELUP_NODE: 'cli1',
        RELUP_RELEASES: 'examples/chat/releases',
        RELUP_RELEASE: '1.0.0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('accepting operator commands')) resolve();
      });
      void exited.then((code) =>
        reject(new Error(`relup node exited (${code}) before it was ready:\n${out}`)),
      );
    });
    const nc = await nats.connect();
    const reply = decode<{ ok: boolean; result: { node: string; release: string; state: string } }>(
      (await nc.request('relup.ctl.cli1', encode({ id: '1', cmd: 'status', args: {} }), { timeout: 5000 }))
        .data,
    );
    expect(reply.ok).toBe(true);
    expect(reply.result).toMatchObject({ node: 'cli1', release: '1.0.0', state: 'ready' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('node stopped');
  });
});
