import { describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { command, useNodeProcesses } from '../helpers/node-process.ts';

describe('super-admin standing across a restart', () => {
  const nats = useNats();
  const nodes = useNodeProcesses();

  it('is kept with the session (SIGKILL, restart: maintenance keeps the admin), and ends when its token is no longer configured', async () => {
    const url = nats.server().url;
    const boot = (token: string) =>
      nodes.start({ nats: url, node: 'sa1', release: '1.0.0', env: { RELUP_SUPERADMIN_TOKENS: token } });
    let node = await boot('first-token');
    const nc = await nats.connect();
    const admin = await Session.open(nc, 'chat', {
      user: 'root',
      room: 'ops',
      role: 'superadmin',
      token: 'first-token',
    });
    const user = await Session.open(nc, 'chat', { user: 'plain', room: 'ops' });
    expect((await admin.request({ type: 'say', text: 'before' })).ok).toBe(true);

    await node.signal('SIGKILL');
    node = await boot('first-token');
    // Both sessions were restored; the operator disconnects everyone but super-admins.
    expect(await command(nc, 'sa1', 'disconnect_clients')).toEqual({ disconnected: 1 });
    await expect(user.request({ type: 'history' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    expect((await admin.request({ type: 'say', text: 'still admin' })).ok).toBe(true);

    // The token is revoked: the restored session is an ordinary one now.
    await node.signal('SIGTERM');
    node = await boot('second-token');
    expect(await command(nc, 'sa1', 'disconnect_clients')).toEqual({ disconnected: 1 });
    await expect(admin.request({ type: 'history' })).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
    await node.signal('SIGTERM');
  }, 90_000);
});
