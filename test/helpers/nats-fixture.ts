import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll } from 'vitest';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';

/** Starts one nats-server for the test file and hands out connections that are closed after it. */
export function useNats(): { server: () => LocalNats; connect: () => Promise<NatsConnection> } {
  let server: LocalNats | undefined;
  const conns: NatsConnection[] = [];
  beforeAll(async () => {
    server = await startNats();
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await server?.stop();
  });
  return {
    server: () => {
      if (!server) throw new Error('nats-server not started yet');
      return server;
    },
    connect: async () => {
      if (!server) throw new Error('nats-server not started yet');
      const nc = await connectNats({ servers: server.url });
      conns.push(nc);
      return nc;
    },
  };
}
