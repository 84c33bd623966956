import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clusterCheck } from '../../src/control/cluster-check.ts';
import { clusterUpgrade } from '../../src/control/cluster-upgrade.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import type { RelupError } from '../../src/errors.ts';
import type { NodeStatus } from '../../src/node/node-types.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { relupctl } from '../helpers/relupctl.ts';

describe('cluster-wide upgrades', () => {
  const nats = useNats();
  let good: ReleaseSandbox;
  let tampered: ReleaseSandbox;
  let client: ControlClient;
  const running: { node: RelupNode; server: ControlServer | undefined }[] = [];

  beforeAll(async () => {
    good = releaseSandbox();
    tampered = releaseSandbox();
    // Sealed, then edited: its load_object_code fails the hash check, before the point of no return.
    appendFileSync(join(tampered.releasesDir, '1.1.0', 'chat.ts'), '\n// tampered after sealing\n');
    client = new ControlClient(await nats.connect());
  });
  afterEach(async () => {
    for (const { node, server } of running.splice(0)) {
      await server?.stop();
      await node.stop();
    }
  });
  afterAll(() => {
    good?.remove();
    tampered?.remove();
  });

  /** Starts a node on a sandbox's releases, with its control server. */
  async function start(id: string, sandbox: ReleaseSandbox): Promise<RelupNode> {
    const node = await startChatNode(nats.server().url, id, {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
    });
    running.push({ node, server: await serveControl(node) });
    return node;
  }

  it('rolling: upgrades the first node, stops at the one that fails its check, leaves the rest', async () => {
    const a = await start('r1', good);
    const b = await start('r2', tampered);
    const c = await start('r3', good);
    const seen: string[] = [];
    const result = await clusterUpgrade(client, {
      to: '1.1.0',
      mode: 'rolling',
      onSummary: (s) => seen.push(`${s.node}:${s.outcome}`),
    });
    expect(result.ok).toBe(false);
    expect(result.nodes).toEqual([
      { node: 'r1', outcome: 'done', pauseMs: expect.any(Number) },
      { node: 'r2', outcome: 'aborted', error: { code: 'HASH_MISMATCH', message: expect.any(String) } },
      { node: 'r3', outcome: 'skipped' },
    ]);
    expect(seen).toEqual(['r1:done', 'r2:aborted', 'r3:skipped']);
    expect([a, b, c].map((n) => n.release.version)).toEqual(['1.1.0', '1.0.0', '1.0.0']);
    // A rerun skips the node already upgraded and stops at the same one.
    const again = await clusterUpgrade(client, { to: '1.1.0', mode: 'rolling' });
    expect(again.nodes.map((n) => [n.node, n.outcome, n.current])).toEqual([
      ['r1', 'done', true],
      ['r2', 'aborted', undefined],
      ['r3', 'skipped', undefined],
    ]);
  });

  it('barrier: one failing check aborts every node; nobody passes the point of no return', async () => {
    const a = await start('b1', good);
    const b = await start('b2', tampered);
    const nc = await nats.connect();
    const session = await Session.open(nc, 'chat', { user: 'ada', room: 'barrier' });
    const result = await clusterUpgrade(client, { to: '1.1.0', mode: 'barrier', barrierTimeoutMs: 20_000 });
    expect(result.ok).toBe(false);
    expect(result.barrier).toMatchObject({ decision: 'abort', reason: expect.stringContaining('b2') });
    expect(result.nodes).toEqual([
      { node: 'b1', outcome: 'aborted', error: { code: 'BARRIER_ABORTED', message: expect.any(String) } },
      { node: 'b2', outcome: 'aborted', error: { code: 'HASH_MISMATCH', message: expect.any(String) } },
    ]);
    expect([a.release.version, b.release.version]).toEqual(['1.0.0', '1.0.0']);
    for (const node of ['b1', 'b2']) {
      const status = await client.request<NodeStatus>(node, 'status');
      expect([status.release, status.upgrading]).toEqual(['1.0.0', undefined]);
    }
    // The node that waited at the barrier undid its preparation and serves on.
    expect(await session.request({ type: 'say', text: 'still here' })).toMatchObject({ ok: true });
    expect(a.services.get('chat')?.acceptor.isSuspended).toBe(false);
  });

  it('barrier: all nodes ready → go, every node upgraded', async () => {
    const a = await start('g1', good);
    const b = await start('g2', good);
    const result = await clusterUpgrade(client, { to: '1.1.0', mode: 'barrier' });
    expect(result).toMatchObject({ ok: true, barrier: { decision: 'go' } });
    expect(result.nodes.map((n) => [n.node, n.outcome])).toEqual([
      ['g1', 'done'],
      ['g2', 'done'],
    ]);
    expect([a.release.version, b.release.version]).toEqual(['1.1.0', '1.1.0']);
  });

  it('check on every node reports the failing one and changes nothing', async () => {
    const a = await start('k1', good);
    const b = await start('k2', tampered);
    const result = await clusterCheck(client, { to: '1.1.0' });
    expect(result.ok).toBe(false);
    expect(result.nodes.map((n) => [n.node, n.outcome, n.error?.code])).toEqual([
      ['k1', 'done', undefined],
      ['k2', 'aborted', 'HASH_MISMATCH'],
    ]);
    expect([a.release.version, b.release.version]).toEqual(['1.0.0', '1.0.0']);
  });

  it('relupctl upgrade --all exits 1 when a node did not upgrade, with the summary as JSON', async () => {
    await start('x1', good);
    await start('x2', tampered);
    const r = await relupctl(['upgrade', '--to', '1.1.0', '--all', '--json', '--nats', nats.server().url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /relupctl: UPGRADE_INCOMPLETE: 1 of 2 nodes did not move to 1\.1\.0: x2 aborted/,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      mode: 'rolling',
      nodes: [
        { node: 'x1', outcome: 'done' },
        { node: 'x2', outcome: 'aborted' },
      ],
    });
  });

  it('no node at all is UNKNOWN_NODE', async () => {
    await expect(clusterUpgrade(client, { to: '1.1.0', mode: 'rolling' })).rejects.toMatchObject({
      code: 'UNKNOWN_NODE',
    });
  });
});

/** Starts the node's control server unless the node already serves one. */
async function serveControl(node: RelupNode): Promise<ControlServer | undefined> {
  try {
    await new ControlClient(node.nc).request(node.id, 'status', {}, { timeoutMs: 2000 });
    return undefined;
  } catch (err) {
    if ((err as RelupError).code !== 'UNKNOWN_NODE') throw err;
  }
  return startControlServer(node, {});
}
