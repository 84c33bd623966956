import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { discover } from '../../src/control/discovery.ts';
import { encode } from '../../src/nats/codec.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { firstViolation } from '../helpers/violations.ts';
import { send } from './control-helpers.ts';

const AUTH_CONF = fileURLToPath(new URL('../../docker/nats-auth.conf', import.meta.url));

describe('NATS permissions of docker/nats-auth.conf', () => {
  let dir: string;
  let server: LocalNats;
  let node: RelupNode;
  let control: ControlServer;
  const conns: NatsConnection[] = [];
  const as = async (user: string, inboxPrefix?: string) => {
    const nc = await connect({ servers: server.url, user, pass: `${user}-dev-password`, inboxPrefix });
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    // The compose config minus cluster and store dir: the same users block, included the same way.
    dir = mkdtempSync(join(tmpdir(), 'relup-auth-'));
    copyFileSync(AUTH_CONF, join(dir, 'nats-auth.conf'));
    writeFileSync(join(dir, 'nats.conf'), 'jetstream: enabled\ninclude ./nats-auth.conf\n');
    server = await startNats({ config: join(dir, 'nats.conf') });
    node = await startChatNode(server.url, 'p1', {
      nats: { servers: server.url, user: 'node', pass: 'node-dev-password' },
    });
    control = await startControlServer(node);
  });
  afterAll(async () => {
    await control?.stop();
    await node?.stop();
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('anonymous connections are refused', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/author/i);
  });

  it("an operator's commands go through, with JetStream usable by the node (a full upgrade and back)", async () => {
    const op = await as('operator', '_INBOX_OPS');
    expect(await send(op, 'p1', { id: '1', cmd: 'status' })).toMatchObject({
      ok: true,
      result: { node: 'p1' },
    });
    expect((await send(op, 'p1', { id: '2', cmd: 'upgrade', args: { to: '1.1.0' } })).result?.outcome).toBe(
      'done',
    );
    expect((await send(op, 'p1', { id: '3', cmd: 'downgrade', args: { to: '1.0.0' } })).result?.outcome).toBe(
      'done',
    );
    expect((await discover(op, { inboxPrefix: '_INBOX_OPS' })).map((n) => n.node)).toEqual(['p1']);
    expect((await op.request('$SRV.PING.relup')).json()).toMatchObject({ id: 'p1' });
  });

  it("a client's publish on relup.ctl.x is rejected by the server", async () => {
    const client = await as('client');
    const violation = firstViolation(client);
    client.publish('relup.ctl.p1', encode({ id: 'evil', cmd: 'upgrade', args: { to: '1.1.0' } }));
    const s = await violation;
    expect(s).toMatch(/permissions violation for publish to "relup\.ctl\.p1"/i);
    await client.flush();
    expect(node.release.version).toBe('1.0.0');
    expect(node.status().upgrading).toBeUndefined();
  });

  it('a client reaches its service and session, but cannot forge pushes nor read events or operator replies', async () => {
    const client = await as('client');
    const session = await Session.open(client, 'chat', { user: 'ada', room: 'perm' });
    expect(await session.request({ type: 'say', text: 'hi' })).toMatchObject({ ok: true, seq: 1 });

    let violation = firstViolation(client);
    client.publish(`relup.ses.${session.id}.push`, encode({ type: 'message', text: 'forged' }));
    expect(await violation).toMatch(/publish to "relup\.ses\..+\.push"/i);

    violation = firstViolation(client);
    client.publish('relup.actor.chat.room.perm', encode({ type: 'say', user: 'root', text: 'forged' }));
    expect(await violation).toMatch(/publish to "relup\.actor\./i);

    for (const subject of ['relup.evt.>', '_INBOX_OPS.>', 'relup.ctl.p1']) {
      violation = firstViolation(client);
      client.subscribe(subject);
      expect(await violation).toMatch(/permissions violation for subscription/i);
    }
    await session.close();
  });

  it("relupctl gets its replies on the operators' inbox prefix: the operator user may not read _INBOX.>", async () => {
    const op = await as('operator');
    const violation = firstViolation(op);
    op.subscribe('_INBOX.>');
    expect(await violation).toMatch(/permissions violation for subscription/i);
    const out = await relupctl(['--nats', server.url, '--json', 'status'], {
      RELUP_NATS_USER: 'operator',
      RELUP_NATS_PASS: 'operator-dev-password',
    });
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject([{ node: 'p1' }]);
  });

  it('discovery whose answers the user may not read fails FORBIDDEN instead of finding no node', async () => {
    const op = await as('operator');
    await expect(discover(op, { maxWaitMs: 2000 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // relupctl with a client's credentials: it says why and exits non-zero (it printed [] and exited 0).
    const out = await relupctl(['--nats', server.url, '--json', 'status'], {
      RELUP_NATS_USER: 'client',
      RELUP_NATS_PASS: 'client-dev-password',
    });
    expect(out.code).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/FORBIDDEN/);
  });

  it('a node cannot command another node nor open a barrier', async () => {
    const other = await as('node');
    for (const subject of ['relup.ctl.p1', 'relup.barrier.x.go']) {
      const violation = firstViolation(other);
      other.publish(subject, encode({ id: 'n', cmd: 'status' }));
      expect(await violation).toMatch(/permissions violation for publish/i);
    }
  });
});
