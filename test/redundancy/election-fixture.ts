import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '../../src/nats/connect.ts';
import { startTcpProxy, type TcpProxy } from '../../src/nats/tcp-proxy.ts';
import { type ElectionEvent, PairElection } from '../../src/redundancy/election.ts';

/** Short but not twitchy lease timing for tests on a shared machine. */
export const TEST_TIMING = { beatMs: 100, renewDeadlineMs: 600, leaseMs: 900 };

/** One elector with its own connection through its own proxy, and the events it saw. */
export interface Elector {
  node: string;
  election: PairElection;
  proxy: TcpProxy;
  nc: NatsConnection;
  events: ElectionEvent[];
  /** Resolves with the first event of `type` at or after index `from`. */
  next(type: ElectionEvent['type'], from?: number, timeoutMs?: number): Promise<ElectionEvent>;
  close(): Promise<void>;
}

/** Starts an elector for `service` on `node`, reaching the server on `port` through a loopback proxy. */
export async function startElector(
  port: number,
  service: string,
  node: string,
  primary: boolean,
  opts: { bucket?: string; timing?: typeof TEST_TIMING } = {},
): Promise<Elector> {
  const proxy = await startTcpProxy({ targetPort: port });
  const nc = await connectNats({ servers: proxy.url, name: node });
  const events: ElectionEvent[] = [];
  const waiters = new Set<() => void>();
  const election = await PairElection.start(nc, {
    service,
    node,
    primary,
    bucket: opts.bucket,
    timing: opts.timing ?? TEST_TIMING,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
  });
  const next = (type: ElectionEvent['type'], from = 0, timeoutMs = 15_000) =>
    new Promise<ElectionEvent>((resolve, reject) => {
      const check = () => {
        const hit = events.slice(from).find((e) => e.type === type);
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${node}: no ${type} event in ${timeoutMs} ms; saw ${JSON.stringify(events)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  return {
    node,
    election,
    proxy,
    nc,
    events,
    next,
    async close() {
      election.stop();
      await nc.close().catch(() => {});
      await proxy.close();
    },
  };
}
