import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type LocalCluster, startCluster } from '../../src/nats/local-cluster.ts';
import { startTcpProxy, type TcpProxy } from '../../src/nats/tcp-proxy.ts';
import { command, type NodeProcess, spawnNode } from '../helpers/node-spawn.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

/**
 * The chat upgrade the chaos scenarios run: a sleep before the point of no return, a before-hook,
 * a sleep inside the pause (channels still suspended) and an after-hook, so every fault point
 * lasts long enough for a fault to land inside it.
 */
export const CHAOS_RELUP = `release: chat
from: 1.0.0
to: 1.1.0
hooks:
  before:
    - sleep: 1500ms
  after:
    - sleep: 1s
up:
  - op: sleep
    args: { duration: 1200ms }
  - update: chat
    extra: { defaultTopic: general }
  - op: sleep
    args: { duration: 1500ms }
down: auto
options: { modifications: [standard] }
`;

/** How fast the parts of a rig notice a dead peer: well under a scenario's length. */
export const CLIENT_PING_MS = 1_000;

/** One relup node of a rig: its process (undefined while down) and the proxies it reaches NATS by. */
export interface RigNode {
  readonly id: string;
  proc: NodeProcess | undefined;
  /** One proxy per cluster server, in server order: the node's only way to NATS. */
  readonly proxies: TcpProxy[];
}

/** A 3-server cluster, relup nodes behind loopback proxies, chat releases in a sandbox, an observer connection. */
export interface Rig {
  readonly cluster: LocalCluster;
  readonly nodes: RigNode[];
  readonly sandbox: ReleaseSandbox;
  /** The observer's connection (every server's URL, fast failover): commands, events, invariants. */
  readonly nc: NatsConnection;
  /** Starts (or restarts) node `id` and waits until it accepts commands; without `release` it boots the permanent one. */
  startNode(id: string, release?: string): Promise<NodeProcess>;
  node(id: string): RigNode;
  /** Connects a client to every server with fast failover. */
  client(name: string): Promise<NatsConnection>;
  /** Stops every process the rig started by pid, closes proxies and connections, removes the sandbox. */
  stop(): Promise<void>;
}

/** How a rig is built. */
export interface RigOptions {
  /** Node ids, default `c1`, `c2`. */
  nodes?: string[];
  /** Replicas of relup's buckets and streams, default 3. */
  replicas?: number;
  /** The relup file chat 1.0.0 → 1.1.0 uses, default {@link CHAOS_RELUP}; null keeps the repo's own. */
  relup?: string | null;
}

/**
 * Builds a rig: starts the cluster without client URL advertising (a node cannot bypass its
 * proxies), a proxy per node and server, the nodes on chat 1.0.0 made permanent. Anything
 * started is stopped again when a later part fails.
 */
export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const ids = opts.nodes ?? ['c1', 'c2'];
  const replicas = opts.replicas ?? 3;
  const sandbox = releaseSandbox();
  if (opts.relup !== null) sandbox.relup('1.0.0-1.1.0', opts.relup ?? CHAOS_RELUP);
  const conns: NatsConnection[] = [];
  const nodes: RigNode[] = [];
  let cluster: LocalCluster | undefined;
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.proc?.signal('SIGKILL')));
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await Promise.all(nodes.flatMap((n) => n.proxies.map((p) => p.close())));
    await cluster?.stop();
    sandbox.remove();
  };
  try {
    cluster = await startCluster({ advertise: false });
    const c = cluster;
    const client = async (name: string) => {
      const nc = await connect({
        servers: c.urls,
        name,
        reconnectTimeWait: 100,
        maxReconnectAttempts: -1,
        pingInterval: CLIENT_PING_MS,
        maxPingOut: 2,
      });
      conns.push(nc);
      return nc;
    };
    for (const id of ids)
      nodes.push({
        id,
        proc: undefined,
        proxies: await Promise.all(c.servers.map((s) => startTcpProxy({ targetPort: s.port }))),
      });
    const node = (id: string) => {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no node ${id} in the rig`);
      return n;
    };
    const startNode = async (id: string, release?: string) => {
      const n = node(id);
      // Each node prefers a different server first, so two nodes rarely share one.
      const k = nodes.indexOf(n) % n.proxies.length;
      const urls = [...n.proxies.slice(k), ...n.proxies.slice(0, k)].map((p) => p.url);
      n.proc = await spawnNode({
        nats: urls.join(','),
        node: id,
        ...(release && { release }),
        env: {
          RELUP_RELEASES: sandbox.releasesDir,
          RELUP_RELUPS: sandbox.relupsDir,
          RELUP_REPLICAS: String(replicas),
        },
        onSpawn: (p) => {
          n.proc = p;
        },
      });
      return n.proc;
    };
    const nc = await client('chaos-observer');
    // The first node creates the buckets; the others then find them.
    for (const id of ids) await startNode(id, '1.0.0');
    await command(nc, ids[0] as string, 'make_permanent', { version: '1.0.0' });
    return { cluster: c, nodes, sandbox, nc, startNode, node, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
