import { afterAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { Session } from '../../src/services/client.ts';
import { useNodeProcesses } from '../helpers/node-process.ts';

describe('graceful stop is bounded', () => {
  const nodes = useNodeProcesses();
  let server: LocalNats | undefined;
  afterAll(async () => {
    await server?.stop().catch(() => {});
  });

  it('SIGTERM with the NATS server gone: the node exits within its stop timeout, naming what did not finish', async () => {
    server = await startNats({ args: [] });
    const node = await nodes.start({
      nats: server.url,
      node: 'stopper',
      release: '1.0.0',
      env: { RELUP_STOP_TIMEOUT: '2000' },
    });
    const nc = await connectNats({ servers: server.url, name: 'clients' });
    for (let i = 0; i < 3; i++) await Session.open(nc, 'chat', { user: `u${i}`, room: 'r' });
    // The server dies first (hard), then the operator asks the node to stop.
    process.kill(server.pid as number, 'SIGKILL');
    await nc.close().catch(() => {});
    const asked = Date.now();
    const code = await node.signal('SIGTERM');
    const took = Date.now() - asked;
    expect(code).toBe(1);
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(node.output()).toMatch(
      /STOP_TIMEOUT: the graceful stop did not finish within 2000 ms \(still: [a-z ,]+\)/,
    );
  }, 60_000);
});
