import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/control/control-client.ts';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import type { RelupError } from '../../src/errors.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { CHAT_RELEASES, RELUPS, startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { relupctl } from '../helpers/relupctl.ts';

const RELUP_FILE = join(RELUPS, 'chat/1.0.0-1.1.0.yaml');

/** Starts the node's control server unless the node already serves one. */
async function serveControl(node: RelupNode, opts = {}): Promise<ControlServer | undefined> {
  try {
    await new ControlClient(node.nc).request(node.id, 'status', {}, { timeoutMs: 2000 });
    return undefined;
  } catch (err) {
    if ((err as RelupError).code !== 'UNKNOWN_NODE') throw err;
  }
  return startControlServer(node, opts);
}

describe('relupctl plan (local, no NATS)', () => {
  it('prints the steps in order with the point of no return marked, and the down plan', async () => {
    const r = await relupctl(['plan', RELUP_FILE, '--releases', CHAT_RELEASES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [up, down] = r.stdout.split('\n\n');
    expect(up?.split('\n')[0]).toBe('chat 1.0.0 → 1.1.0 (up)');
    const ops = (up ?? '')
      .split('\n')
      .slice(1)
      .map((l) => l.replace(/^\s*\d+\.\s+/, '').split(/\s+/)[0]);
    expect(ops).toEqual([
      'check_acceptors',
      'check_channels',
      'load_object_code',
      'preflight_code_change',
      '──',
      'suspend_acceptors',
      'suspend_channels',
      'suspend',
      'load',
      'code_change',
      'resume',
      'resume_channels',
      'resume_acceptors',
    ]);
    expect(up).toContain('5. ── point of no return ──');
    expect(down?.split('\n')[0]).toBe('chat 1.1.0 → 1.0.0 (down)');
  });

  it('--json prints both plans as JSON; RELUP_RELEASES stands for --releases', async () => {
    const r = await relupctl(['plan', RELUP_FILE, '--json'], { RELUP_RELEASES: CHAT_RELEASES });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.plan).toMatchObject({ release: 'chat', from: '1.0.0', to: '1.1.0', direction: 'up' });
    expect(out.plan.after[0].op).toBe('point_of_no_return');
    expect(out.down).toMatchObject({ from: '1.1.0', to: '1.0.0', direction: 'down' });
  });

  it('exits 2 on bad usage and 1 with CODE: message on a failure', async () => {
    const missing = await relupctl(['plan', RELUP_FILE]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--releases');
    expect((await relupctl(['frobnicate'])).code).toBe(2);
    expect((await relupctl(['upgrade', '--node', 'n1'])).code).toBe(2); // no --to
    expect((await relupctl(['upgrade', '--to', '1.1.0', '--nats', 'nats://x:1'])).code).toBe(2); // no target
    expect((await relupctl(['upgrade', '--to', '1.1.0', '--node', 'a', '--all'])).code).toBe(2);
    expect((await relupctl(['status', '--node', 'a.b', '--nats', 'nats://x:1'])).code).toBe(2);
    expect((await relupctl(['status'])).code).toBe(2); // no --nats
    // relupctl pair: a bad op, scan value or service name is a usage error before anything is sent.
    const pair = (...args: string[]) => relupctl(['pair', ...args, '--node', 'n1', '--nats', 'nats://x:1']);
    const badOp = await pair('explode', '--service', 'p');
    expect(badOp.code).toBe(2);
    expect(badOp.stderr).toContain('op must be status, failover, scan or undeploy');
    expect((await pair('scan', 'maybe', '--service', 'p')).code).toBe(2);
    expect((await pair('status', '--service', 'a.b')).code).toBe(2);
    const help = await relupctl(['upgrade', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--mode <mode>');
    expect(help.stdout).toContain('--nats <url>');
    const failed = await relupctl(['plan', join(RELUPS, 'nope.yaml'), '--releases', CHAT_RELEASES]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^relupctl: FILE_UNREADABLE: cannot read /);
  });
});

describe('relupctl against a node', () => {
  const nats = useNats();
  let node: RelupNode;
  let server: ControlServer | undefined;
  let url: string;

  beforeAll(async () => {
    url = nats.server().url;
    node = await startChatNode(url, 'cli1');
    server = await serveControl(node);
  });
  afterAll(async () => {
    await server?.stop();
    await node?.stop();
  });

  it('status --json prints the node status; without --node every node by discovery', async () => {
    const one = await relupctl(['status', '--node', 'cli1', '--json', '--nats', url]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ node: 'cli1', release: '1.0.0' });
    const all = await relupctl(['--nats', url, 'status', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([expect.objectContaining({ node: 'cli1', release: '1.0.0' })]);
    const table = await relupctl(['status', '--nats', url]);
    expect(table.stdout).toMatch(/^NODE\s+RELEASE/);
    expect(table.stdout).toMatch(/cli1\s+1\.0\.0\s+chat@1\.0\.0/);
  });

  it('an unknown node exits 1 with UNKNOWN_NODE', async () => {
    const r = await relupctl(['status', '--node', 'ghost', '--nats', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relupctl: UNKNOWN_NODE: /);
    const json = await relupctl(['upgrade', '--to', '1.1.0', '--node', 'ghost', '--nats', url, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_NODE' } });
  });

  it('upgrade prints a line per event when not on a terminal; downgrade --json prints the report', async () => {
    const up = await relupctl(['upgrade', '--to', '1.1.0', '--node', 'cli1', '--nats', url]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const lines = up.stdout.trim().split('\n');
    expect(lines.some((l) => / cli1 step_completed suspend_channels ok /.test(l))).toBe(true);
    expect(lines.some((l) => / cli1 state done/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(
      /^cli1: upgrade 1\.0\.0 → 1\.1\.0 done \(13 steps, \d+ ms, pause \d+(\.\d+)? ms\)$/,
    );
    expect(node.release.version).toBe('1.1.0');

    const down = await relupctl(['downgrade', '--to', '1.0.0', '--node', 'cli1', '--nats', url, '--json']);
    expect(down.code).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ outcome: 'done', from: '1.1.0', to: '1.0.0' });
    // The event lines went to stderr, so stdout stays one JSON document.
    expect(down.stderr).toContain('step_completed');
    expect(node.release.version).toBe('1.0.0');
  });

  it('check --all reports per node and changes nothing; a failing upgrade exits 1 with its code', async () => {
    const check = await relupctl(['check', '--to', '1.1.0', '--all', '--nats', url, '--json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, nodes: [{ node: 'cli1', outcome: 'done' }] });
    const bad = await relupctl(['upgrade', '--to', '9.9.9', '--node', 'cli1', '--nats', url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^relupctl: UNKNOWN_RELEASE: /);
    expect(node.release.version).toBe('1.0.0');
  });
});

describe('relupctl signs commands for a node that requires it', () => {
  const nats = useNats();
  const operator = createUser();
  const dir = mkdtempSync(join(tmpdir(), 'relupctl-seed-'));
  const seedFile = join(dir, 'operator.nk');
  let node: RelupNode;
  let server: ControlServer | undefined;

  beforeAll(async () => {
    writeFileSync(seedFile, `${new TextDecoder().decode(operator.getSeed())}\n`);
    node = await startChatNode(nats.server().url, 'signed1');
    server = await serveControl(node, { operatorKeys: [operator.getPublicKey()] });
  });
  afterAll(async () => {
    await server?.stop();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--seed-file and RELUP_OPERATOR_SEED sign; unsigned is refused', async () => {
    const url = nats.server().url;
    const args = ['status', '--node', 'signed1', '--nats', url, '--json'];
    const unsigned = await relupctl(args);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/^relupctl: UNSIGNED_COMMAND: /);
    const byFile = await relupctl([...args, '--seed-file', seedFile]);
    expect(byFile.code).toBe(0);
    expect(JSON.parse(byFile.stdout)).toMatchObject({ node: 'signed1' });
    const byEnv = await relupctl(args, { RELUP_OPERATOR_SEED: new TextDecoder().decode(operator.getSeed()) });
    expect(byEnv.code).toBe(0);
    const stranger = await relupctl(args, {
      RELUP_OPERATOR_SEED: new TextDecoder().decode(createUser().getSeed()),
    });
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/^relupctl: BAD_SIGNATURE: /);
    expect((await relupctl([...args, '--seed-file', join(dir, 'missing')])).code).toBe(2);
  });
});
