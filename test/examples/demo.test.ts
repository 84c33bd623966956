import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useNats } from '../helpers/nats-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a demo as `npm start` would, on the test's nats-server; resolves with its exit code and output. */
async function runDemo(
  file: string,
  url: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, NATS_URL: url, ...env },
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
    return { code, out };
  } finally {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }
}

describe('the demos, run as child processes', () => {
  const nats = useNats();

  it('npm start: exits 0 after a successful upgrade and says nothing was lost or dropped', async () => {
    const { code, out } = await runDemo('examples/chat/demo.ts', nats.server().url, { DEMO_USERS: '6' });
    expect(out).toMatch(/lost 0, out of order 0, pushes \d+, sessions dropped 0, .*all nodes on 1\.1\.0/);
    // The operator page's address is printed while the demo runs.
    expect(out).toMatch(/operator page: http:\/\/127\.0\.0\.1:\d+\//);
    expect(code, out).toBe(0);
  }, 120_000);

  it('npm run demo:pair: the sequencer pair goes through a forced failover and a SIGKILL, numbers strictly increasing', async () => {
    const { code, out } = await runDemo('examples/sequencer/demo.ts', nats.server().url);
    expect(out).toMatch(/forced failover n1 → n2: the client's longest wait between two numbers: \d+ ms/);
    expect(out).toMatch(
      /SIGKILL of n2 \(the active\): the client's longest wait between two numbers: \d+ ms/,
    );
    expect(out).toMatch(/strictly increasing; handed out twice: 0;/);
    expect(code, out).toBe(0);
  }, 120_000);
});
