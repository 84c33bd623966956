import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection, Status } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { type LocalCluster, startCluster } from '../../src/nats/local-cluster.ts';
import { replicasFor } from '../../src/nats/replicas.ts';
import { startTcpProxy } from '../../src/nats/tcp-proxy.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { startChatNode } from '../helpers/chat-node.ts';

const BUCKET = 'chaos';
const STREAM = `KV_${BUCKET}`;

describe('a local 3-server NATS cluster', () => {
  let cluster: LocalCluster;
  const conns: NatsConnection[] = [];

  // Clients fail over fast: the cluster's faults must not be hidden by a 2 s reconnect wait.
  const client = async (servers: string | string[], opts: { ignoreClusterUpdates?: boolean } = {}) => {
    const nc = await connect({ servers, reconnectTimeWait: 50, maxReconnectAttempts: -1, ...opts });
    conns.push(nc);
    return nc;
  };
  const bucket = async (nc: NatsConnection): Promise<KV> =>
    new Kvm(nc).create(BUCKET, { history: 1, replicas: replicasFor(nc) });
  const text = async (kv: KV, key: string) => {
    const e = await kv.get(key);
    return e?.operation === 'PUT' ? e.string() : undefined;
  };

  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await cluster?.stop();
  });

  it('forms with a JetStream meta leader; each server has its own pid, ports and store dir', async () => {
    expect(cluster.servers).toHaveLength(3);
    expect(new Set(cluster.servers.map((s) => s.pid)).size).toBe(3);
    expect(new Set(cluster.servers.map((s) => s.storeDir)).size).toBe(3);
    expect(cluster.servers.every((s) => s.up)).toBe(true);
    const leader = await cluster.metaLeader();
    expect(cluster.servers[leader]).toBeDefined();
    const jsz = (await (
      await fetch(`http://127.0.0.1:${cluster.servers[leader]!.monitorPort}/jsz`)
    ).json()) as { meta_cluster: { leader: string; cluster_size: number } };
    expect(jsz.meta_cluster).toMatchObject({ leader: cluster.servers[leader]!.name, cluster_size: 3 });
  });

  it('detects R3 and relup creates its buckets with 3 replicas', async () => {
    const nc = await client(cluster.urls[0]!);
    expect(replicasFor(nc)).toBe(3);
    expect(replicasFor(nc, 1)).toBe(1);
    let node: RelupNode | undefined;
    try {
      node = await startChatNode(cluster.urls.join(','), 'c1');
      const jsm = await jetstreamManager(nc);
      for (const stream of ['KV_relup_nodes', 'KV_relup_actors', 'KV_relup_releases', 'KV_relup_journal'])
        expect((await jsm.streams.info(stream)).config.num_replicas, stream).toBe(3);
    } finally {
      await node?.stop();
    }
  });

  it('an R3 bucket keeps a put acknowledged before SIGKILL of its stream leader; a new leader is elected', async () => {
    const nc = await client(cluster.urls);
    const kv = await bucket(nc);
    await kv.put('k', 'before');
    const leader = await cluster.streamLeader(STREAM);
    await cluster.kill(leader, 'SIGKILL');
    try {
      expect(cluster.servers[leader]!.pid).toBeUndefined();
      expect(await cluster.streamLeader(STREAM, 15_000)).not.toBe(leader);
      expect(await text(kv, 'k')).toBe('before');
      await kv.put('k', 'after');
      // A direct get may be served by a follower that has not applied the put yet.
      await expect.poll(() => text(kv, 'k'), { timeout: 10_000, interval: 50 }).toBe('after');
    } finally {
      // Back to three servers; the restarted one catches up on the put it missed.
      await cluster.restart(leader);
    }
    const back = await client(cluster.urls[leader]!, { ignoreClusterUpdates: true });
    const direct = await bucket(back);
    await expect.poll(() => text(direct, 'k'), { timeout: 10_000, interval: 50 }).toBe('after');
  });

  it('a SIGSTOPped meta leader is replaced; after SIGCONT it rejoins the cluster', async () => {
    const paused = await cluster.metaLeader();
    const other = cluster.servers.find((s) => s.index !== paused)!;
    const nc = await client(other.url, { ignoreClusterUpdates: true });
    const kv = await bucket(nc);
    await cluster.kill(paused, 'SIGSTOP');
    try {
      expect(cluster.servers[paused]!.up).toBe(false);
      expect(await cluster.metaLeader(15_000)).not.toBe(paused);
      // Two of three replicas are a quorum: writes go on while one server is frozen, once the
      // bucket has a leader that is not frozen.
      expect(await cluster.streamLeader(STREAM, 15_000)).not.toBe(paused);
      await kv.put('k', 'while paused');
    } finally {
      await cluster.kill(paused, 'SIGCONT');
    }
    await cluster.formed();
    expect(cluster.servers[paused]!.up).toBe(true);
    const back = await bucket(await client(cluster.servers[paused]!.url, { ignoreClusterUpdates: true }));
    await expect.poll(() => text(back, 'k'), { timeout: 10_000, interval: 50 }).toBe('while paused');
  });

  it('restarts a server after SIGTERM on the same ports and store dir', async () => {
    const i = (await cluster.streamLeader(STREAM)) === 0 ? 1 : 0;
    const before = { ...cluster.servers[i]! };
    await cluster.kill(i, 'SIGTERM');
    try {
      expect(cluster.servers[i]!.up).toBe(false);
      // The server may have been the meta leader: JetStream answers again once another is elected.
      expect(await cluster.metaLeader(15_000)).not.toBe(i);
      const kv = await bucket(await client(cluster.urls.filter((_, k) => k !== i)));
      await kv.put('k', 'while down');
    } finally {
      await cluster.restart(i);
    }
    const after = cluster.servers[i]!;
    expect(after.pid).toBeDefined();
    expect(after.pid).not.toBe(before.pid);
    expect({ port: after.port, clusterPort: after.clusterPort, monitorPort: after.monitorPort }).toEqual({
      port: before.port,
      clusterPort: before.clusterPort,
      monitorPort: before.monitorPort,
    });
    expect(after.storeDir).toBe(before.storeDir);
    const back = await bucket(await client(after.url, { ignoreClusterUpdates: true }));
    await expect.poll(() => text(back, 'k'), { timeout: 10_000, interval: 50 }).toBe('while down');
  });

  it('a client behind a severed proxy disconnects, and reconnects once it is restored', async () => {
    const proxy = await startTcpProxy({ targetPort: cluster.servers[0]!.port });
    try {
      const echo = await client(cluster.urls[1]!);
      echo.subscribe('t.echo', { callback: (_, m) => void m.respond(m.data) });
      await echo.flush();
      // Only the proxy is known to this client: no failover to a server it could reach directly.
      const nc = await client(proxy.url, { ignoreClusterUpdates: true });
      const statuses = nc.status()[Symbol.asyncIterator]();
      const next = async (type: Status['type']) => {
        for (;;) {
          const s = await statuses.next();
          if (s.done) throw new Error(`status stream ended before ${type}`);
          if (s.value.type === type) return;
        }
      };
      expect(decode((await nc.request('t.echo', encode({ n: 1 }), { timeout: 5_000 })).data)).toEqual({
        n: 1,
      });
      expect(proxy.connections()).toBe(1);
      await proxy.sever();
      await next('disconnect');
      await expect(nc.request('t.echo', encode({ n: 2 }), { timeout: 300 })).rejects.toThrow();
      const restored = Date.now();
      await proxy.restore();
      await next('reconnect');
      expect(Date.now() - restored).toBeLessThan(5_000);
      expect(decode((await nc.request('t.echo', encode({ n: 3 }), { timeout: 5_000 })).data)).toEqual({
        n: 3,
      });
    } finally {
      await proxy.close();
    }
  });
});
