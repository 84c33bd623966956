import { describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, useNodeProcesses } from '../helpers/node-process.ts';

describe('manual maintenance across a node restart', () => {
  const nats = useNats();
  const nodes: ReturnType<typeof useNodeProcesses> = useNodeProcesses();

  it('stays on after SIGTERM and SIGKILL with its message and until, and ends only when switched off', async () => {
    const url = nats.server().url;
    let node = await nodes.start({ nats: url, node: 'mr1', release: '1.0.0' });
    const nc = await nats.connect();
    await command(nc, 'mr1', 'maintenance', {
      on: true,
      message: 'fixing the disk',
      until: '2026-12-03T06:00:00Z',
    });
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await node.signal(signal);
      node = await nodes.start({ nats: url, node: 'mr1', release: '1.0.0' });
      const status = await command(nc, 'mr1', 'status');
      expect(status.state, signal).toBe('maintenance');
      expect(status.maintenance, signal).toEqual([
        expect.objectContaining({
          reason: 'manual',
          message: 'fixing the disk',
          until: '2026-12-03T06:00:00Z',
        }),
      ]);
      await expect(Session.open(nc, 'chat', { user: 'u', room: 'r' })).rejects.toMatchObject({
        code: 'MAINTENANCE',
        details: { until: '2026-12-03T06:00:00Z' },
      });
    }
    await command(nc, 'mr1', 'maintenance', { on: false });
    await node.signal('SIGTERM');
    await nodes.start({ nats: url, node: 'mr1', release: '1.0.0' });
    expect((await command(nc, 'mr1', 'status')).state).toBe('ready');
    const s = await Session.open(nc, 'chat', { user: 'u', room: 'r' });
    expect((await s.request({ type: 'say', text: 'served again' })).ok).toBe(true);
  }, 120_000);
});
