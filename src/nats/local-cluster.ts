import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelupError } from '../errors.ts';
import {
  assertNatsServerInstalled,
  freePort,
  type NatsServerProcess,
  spawnNatsServer,
} from './server-process.ts';

/** The signals a test may send to one server of a local cluster. */
export type ServerSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT';

/** One server of a {@link LocalCluster}: its ports and store dir stay the same across restarts. */
export interface ClusterServer {
  /** Its position in {@link LocalCluster.servers}. */
  readonly index: number;
  /** Its server name, as JetStream reports leaders. */
  readonly name: string;
  /** Its client URL. */
  readonly url: string;
  /** Its client port. */
  readonly port: number;
  /** Its route (cluster) port. */
  readonly clusterPort: number;
  /** Its HTTP monitoring port. */
  readonly monitorPort: number;
  /** Its JetStream store dir. */
  readonly storeDir: string;
  /** The pid of its current process; undefined while it is down. */
  readonly pid: number | undefined;
  /** Whether it is running and not paused by SIGSTOP. */
  readonly up: boolean;
}

/** A real nats-server cluster on loopback, each server with JetStream and its own store dir. */
export interface LocalCluster {
  /** The cluster name. */
  readonly name: string;
  /** The servers, in start order. */
  readonly servers: readonly ClusterServer[];
  /** Every server's client URL (a client given all of them fails over between them). */
  readonly urls: string[];
  /**
   * Sends a signal to server `i` by pid. SIGKILL and SIGTERM resolve once the process exited;
   * SIGSTOP pauses it and SIGCONT resumes it, both at once.
   */
  kill(i: number, signal?: ServerSignal): Promise<void>;
  /** Stops server `i` if it runs, starts it again on the same ports and store dir, and waits until the cluster has formed again. */
  restart(i: number): Promise<void>;
  /** Waits until every server that is up has routes to all others that are up and they agree on a JetStream meta leader. */
  formed(timeoutMs?: number): Promise<void>;
  /** The index of the JetStream meta leader the servers that are up agree on, waiting for an election if needed. */
  metaLeader(timeoutMs?: number): Promise<number>;
  /** The index of the server leading `stream` (e.g. `KV_<bucket>`), waiting for an election if needed. */
  streamLeader(stream: string, timeoutMs?: number): Promise<number>;
  /** Stops every server by pid and removes the store dirs. */
  stop(): Promise<void>;
}

/** How {@link startCluster} starts the servers. */
export interface LocalClusterOptions {
  /** How many servers, default 3. */
  size?: number;
  /** The cluster name, default `relup`; servers are named `<name>-<index>`. */
  name?: string;
  /** How long the cluster may take to form, default 20 s. */
  timeoutMs?: number;
  /**
   * Whether servers tell clients the other servers' URLs, default true. Off, a client reaches
   * only the URLs it was given, so a proxy in front of a server cannot be bypassed.
   */
  advertise?: boolean;
}

interface Member {
  index: number;
  name: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  proc: NatsServerProcess | undefined;
  paused: boolean;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
  account_details?: {
    stream_detail?: { name: string; cluster?: { leader?: string } }[];
  }[];
}

const POLL_MS = 50;
const REQUEST_MS = 1_000;

/**
 * Starts a real nats-server cluster on 127.0.0.1: routes between all servers, JetStream on each
 * with its own store dir, and a monitoring port per server. Resolves once the cluster has formed
 * with a JetStream meta leader; on any failure every server started is stopped and the store
 * dirs are removed before the error is thrown.
 */
export async function startCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const size = opts.size ?? 3;
  const clusterName = opts.name ?? 'relup';
  const timeoutMs = opts.timeoutMs ?? 20_000;
  if (!Number.isInteger(size) || size < 1)
    throw new RelupError('BAD_OPTIONS', 'size must be a positive integer', { size });
  assertNatsServerInstalled();
  const root = mkdtempSync(join(tmpdir(), 'relup-cluster-'));
  const members: Member[] = [];
  const taken = new Set<number>();
  // Ports are probed one at a time, so the same free port could come back: never hand it out twice.
  const port = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const addMember = async (index: number) => {
    const storeDir = join(root, `s${index}`);
    mkdirSync(storeDir);
    members.push({
      index,
      name: `${clusterName}-${index}`,
      port: await port(),
      clusterPort: await port(),
      monitorPort: await port(),
      storeDir,
      proc: undefined,
      paused: false,
    });
  };
  const routes = () => members.map((m) => `nats://127.0.0.1:${m.clusterPort}`).join(',');
  const up = () => members.filter((m) => m.proc?.alive() && !m.paused);
  const member = (i: number): Member => {
    const m = members[i];
    if (!m) throw new RelupError('BAD_OPTIONS', `no server ${i} in a cluster of ${size}`, { index: i });
    return m;
  };

  async function launch(m: Member): Promise<void> {
    m.paused = false;
    m.proc = await spawnNatsServer(
      [
        '-js',
        '-sd',
        m.storeDir,
        '-n',
        m.name,
        '-a',
        '127.0.0.1',
        '-p',
        String(m.port),
        '-m',
        String(m.monitorPort),
        '--cluster_name',
        clusterName,
        '--cluster',
        `nats://127.0.0.1:${m.clusterPort}`,
        '--routes',
        routes(),
        ...(opts.advertise === false ? ['--no_advertise=true'] : []),
      ],
      { what: `nats-server ${m.name}` },
    );
  }

  async function halt(m: Member): Promise<void> {
    await m.proc?.stop();
    m.paused = false;
  }

  // The meta leader every server that is up names, if they all name the same server that is up.
  async function agreedMetaLeader(): Promise<Member | undefined> {
    const live = up();
    const views = await Promise.all(live.map((m) => monitor<Jsz>(m, '/jsz')));
    const names = new Set(views.map((v) => v?.meta_cluster?.leader));
    const [leader] = names;
    return names.size === 1 ? live.find((m) => m.name === leader) : undefined;
  }

  async function routesComplete(): Promise<boolean> {
    const live = up();
    const views = await Promise.all(live.map((m) => monitor<{ num_routes?: number }>(m, '/routez')));
    // At least: a route to a server that just died or froze may linger until its ping fails.
    return views.every((v) => (v?.num_routes ?? -1) >= live.length - 1);
  }

  async function formed(ms = timeoutMs): Promise<void> {
    await until(`cluster ${clusterName} to form with a meta leader`, ms, async () =>
      (await routesComplete()) && (await agreedMetaLeader()) !== undefined ? true : undefined,
    );
  }

  async function stop(): Promise<void> {
    await Promise.all(members.map(halt));
    rmSync(root, { recursive: true, force: true });
  }

  try {
    for (let index = 0; index < size; index++) await addMember(index);
    // Settled, not raced: a server still starting when another failed must be stopped too.
    const launched = await Promise.allSettled(members.map(launch));
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    await formed();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    name: clusterName,
    servers: members.map((m) => ({
      index: m.index,
      name: m.name,
      url: `nats://127.0.0.1:${m.port}`,
      port: m.port,
      clusterPort: m.clusterPort,
      monitorPort: m.monitorPort,
      storeDir: m.storeDir,
      get pid() {
        return m.proc?.alive() ? m.proc.pid : undefined;
      },
      get up() {
        return m.proc?.alive() === true && !m.paused;
      },
    })),
    urls: members.map((m) => `nats://127.0.0.1:${m.port}`),
    async kill(i, signal = 'SIGKILL') {
      const m = member(i);
      const proc = m.proc;
      if (!proc?.alive()) return;
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        proc.signal(signal);
        m.paused = signal === 'SIGSTOP';
        return;
      }
      // A paused process handles SIGTERM only once resumed.
      if (signal === 'SIGTERM') proc.signal('SIGCONT');
      proc.signal(signal);
      await proc.exited;
      m.paused = false;
    },
    async restart(i) {
      const m = member(i);
      await halt(m);
      await launch(m);
      await formed();
    },
    formed,
    async metaLeader(ms = timeoutMs) {
      const leader = await until('a JetStream meta leader', ms, agreedMetaLeader);
      return leader.index;
    },
    async streamLeader(stream, ms = timeoutMs) {
      const leader = await until(`a leader of stream ${stream}`, ms, async () => {
        const live = up();
        const views = await Promise.all(live.map((m) => monitor<Jsz>(m, '/jsz?accounts=true&streams=true')));
        // A follower may still name a leader that is gone: trust a server that names itself.
        return live.find((m, k) =>
          (views[k]?.account_details ?? []).some((a) =>
            (a.stream_detail ?? []).some((s) => s.name === stream && s.cluster?.leader === m.name),
          ),
        );
      });
      return leader.index;
    },
    stop,
  };
}

// Reads a monitoring endpoint; undefined when the server does not answer in time.
async function monitor<T>(m: Member, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${m.monitorPort}${path}`, {
      signal: AbortSignal.timeout(REQUEST_MS),
    });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

// Polls `probe` until it yields a value; TIMEOUT naming `what` after `ms`.
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline)
      throw new RelupError('TIMEOUT', `timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
