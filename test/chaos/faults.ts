import { mkdirSync, rmSync } from 'node:fs';
import type { Rig } from './rig.ts';

/** The faults the chaos suite injects. */
export const FAULT_KINDS = [
  'server-of-node',
  'meta-leader',
  'stream-leader',
  'restart-all',
  'store-lost',
  'server-sigstop',
  'node-sigkill',
  'node-sigterm',
  'node-cut',
] as const;

/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each fault does, for CHAOS.md. */
export const FAULT_TEXT: Record<FaultKind, string> = {
  'server-of-node': 'SIGKILL of the nats-server the node is connected to, restarted 3 s later',
  'meta-leader': 'SIGKILL of the JetStream meta leader, restarted 3 s later',
  'stream-leader': 'SIGKILL of the leader of the event journal stream `relup_events`, restarted 3 s later',
  'restart-all': 'SIGKILL of all three servers at once, all restarted 2 s later',
  'store-lost':
    'SIGKILL of the leader of `relup_events`, its JetStream store dir wiped (a lost disk), restarted empty 3 s later',
  'server-sigstop':
    'SIGSTOP of the nats-server the node is on for 4 s (4 client ping intervals), then SIGCONT',
  'node-sigkill': 'SIGKILL of the relup node, restarted (permanent release) 2 s later',
  'node-sigterm': 'SIGTERM of the relup node (graceful stop), restarted (permanent release) once it exited',
  'node-cut': 'the node cut off from every server by its TCP proxies for 5 s, then restored',
};

/** An injected fault: heal() undoes it and resolves once the part is back. */
export interface InjectedFault {
  /** What was hit, e.g. `server 1 (relup-1)`. */
  readonly target: string;
  heal(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The index of the server the node's connection is on, from the servers' monitoring endpoints. */
export async function serverOfNode(rig: Rig, node: string): Promise<number> {
  for (const s of rig.cluster.servers) {
    if (!s.up) continue;
    try {
      const res = await fetch(`http://127.0.0.1:${s.monitorPort}/connz?limit=1024`, {
        signal: AbortSignal.timeout(1_000),
      });
      const connz = (await res.json()) as { connections?: { name?: string }[] };
      if ((connz.connections ?? []).some((c) => c.name === `relup-${node}`)) return s.index;
    } catch {
      // A server that does not answer holds no connection we can see.
    }
  }
  throw new Error(`node ${node} is connected to no server`);
}

/** Injects `kind` against `node` (the node, its server, or a leader) and returns how to heal it. */
export async function inject(rig: Rig, kind: FaultKind, node: string): Promise<InjectedFault> {
  const { cluster } = rig;
  const killServer = async (i: number, holdMs: number): Promise<InjectedFault> => {
    await cluster.kill(i, 'SIGKILL');
    return {
      target: `server ${cluster.servers[i]?.name}`,
      heal: async () => {
        await sleep(holdMs);
        await cluster.restart(i);
      },
    };
  };
  switch (kind) {
    case 'server-of-node':
      return killServer(await serverOfNode(rig, node), 3_000);
    case 'meta-leader':
      return killServer(await cluster.metaLeader(), 3_000);
    case 'stream-leader':
      return killServer(await cluster.streamLeader('relup_events'), 3_000);
    case 'store-lost': {
      const i = await cluster.streamLeader('relup_events');
      await cluster.kill(i, 'SIGKILL');
      const dir = cluster.servers[i]?.storeDir as string;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      return {
        target: `server ${cluster.servers[i]?.name} and its store`,
        heal: async () => {
          await sleep(3_000);
          await cluster.restart(i);
        },
      };
    }
    case 'restart-all': {
      await Promise.all(cluster.servers.map((s) => cluster.kill(s.index, 'SIGKILL')));
      return {
        target: 'every server',
        heal: async () => {
          await sleep(2_000);
          await Promise.all(cluster.servers.map((s) => cluster.restart(s.index)));
        },
      };
    }
    case 'server-sigstop': {
      const i = await serverOfNode(rig, node);
      await cluster.kill(i, 'SIGSTOP');
      return {
        target: `server ${cluster.servers[i]?.name}`,
        heal: async () => {
          await sleep(4_000);
          await cluster.kill(i, 'SIGCONT');
          await cluster.formed();
        },
      };
    }
    case 'node-sigkill':
    case 'node-sigterm': {
      const n = rig.node(node);
      const signal = kind === 'node-sigkill' ? 'SIGKILL' : 'SIGTERM';
      await n.proc?.signal(signal);
      n.proc = undefined;
      return {
        target: `node ${node}`,
        heal: async () => {
          if (signal === 'SIGKILL') await sleep(2_000);
          await rig.startNode(node);
        },
      };
    }
    case 'node-cut': {
      const n = rig.node(node);
      await Promise.all(n.proxies.map((p) => p.sever()));
      return {
        target: `node ${node}`,
        heal: async () => {
          await sleep(5_000);
          await Promise.all(n.proxies.map((p) => p.restore()));
        },
      };
    }
  }
}
