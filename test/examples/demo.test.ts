import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useNats } from '../helpers/nats-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start (the chat demo)', () => {
  const nats = useNats();

  it('exits 0 after a successful upgrade and says nothing was lost or dropped', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/demo.ts'], {
      cwd: ROOT,
      env: { ...process.env, NATS_URL: nats.server().url, DEMO_USERS: '6' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(out).toMatch(/lost 0, out of order 0, pushes \d+, sessions dropped 0, .*all nodes on 1\.1\.0/);
      expect(code, out).toBe(0);
    } finally {
      if (child.pid && child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, 'SIGKILL');
    }
  }, 120_000);
});
