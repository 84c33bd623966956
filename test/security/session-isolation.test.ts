import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { createDeploymentAuth, type DeploymentAuth } from '../../src/nats/deployment-auth.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { firstViolation } from '../helpers/violations.ts';

/** The connection a Session talks over (its own user's, under JWT auth). */
function connOf(s: Session): NatsConnection {
  return (s as unknown as { nc: NatsConnection }).nc;
}

describe('sessions isolated on the bus: decentralized JWT auth (issue 11 §1)', () => {
  let dir: string;
  let auth: DeploymentAuth;
  let server: LocalNats;
  let node: RelupNode;
  let control: ControlServer;
  const conns: NatsConnection[] = [];
  const sessions: Session[] = [];
  const creds = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, body);
    return file;
  };
  const as = async (name: string, body: string) => {
    const nc = await connectNats({ servers: server.url, credsFile: creds(name, body) });
    conns.push(nc);
    return nc;
  };
  const open = async (user: string, room: string, onPush?: (m: Record<string, unknown>) => void) => {
    const guest = await as(`guest-${user}.creds`, auth.guestCreds);
    const s = await Session.open(guest, 'chat', { user, room }, { onPush });
    sessions.push(s);
    return s;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relup-jwt-'));
    auth = await createDeploymentAuth(['j1', 'j2']);
    writeFileSync(join(dir, 'nats-jwt.conf'), auth.serverConfig);
    writeFileSync(join(dir, 'nats.conf'), 'jetstream: enabled\ninclude ./nats-jwt.conf\n');
    server = await startNats({ config: join(dir, 'nats.conf') });
    node = await startChatNode(server.url, 'j1', {
      nats: { servers: server.url, credsFile: creds('node-j1.creds', auth.nodeCreds.j1 ?? '') },
      sessionSigner: { seed: auth.signerSeed, account: auth.account, ttlMs: 4000 },
    });
    control = await startControlServer(node);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
    await control?.stop();
    await node?.stop();
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without credentials nobody connects; a guest may only ask for a session', async () => {
    await expect(connectNats({ servers: server.url })).rejects.toMatchObject({ code: 'NATS_UNAVAILABLE' });
    const guest = await as('guest.creds', auth.guestCreds);
    const violation = firstViolation(guest);
    guest.publish('relup.ses.anything', encode({ type: 'say', text: 'x' }));
    expect(await violation).toMatch(/permissions violation for publish to "relup\.ses\.anything"/i);
  });

  it('a session talks over its own user: say, pushes and history work', async () => {
    const pushes: Record<string, unknown>[] = [];
    const a = await open('ada', 'iso', (m) => pushes.push(m));
    expect(a.expires).toBeGreaterThan(Date.now());
    expect(await a.request({ type: 'say', text: 'hello' })).toMatchObject({ ok: true, seq: 1 });
    await expect.poll(() => pushes.map((p) => p.text)).toEqual(['hello']);
  });

  it("another session can neither read a victim's pushes or _INBOX.>, nor publish on its subject", async () => {
    const victim = await open('vic', 'iso2');
    const eve = await open('eve', 'iso2');
    const nc = connOf(eve);
    for (const subject of [
      `relup.ses.${victim.id}.push`,
      'relup.ses.*.push',
      '_INBOX.>',
      '_INBOX_' + victim.id + '.>',
    ]) {
      const violation = firstViolation(nc);
      nc.subscribe(subject);
      expect(await violation, subject).toMatch(/permissions violation for subscription/i);
    }
    for (const subject of [
      `relup.ses.${victim.id}`,
      `relup.ses.${victim.id}.push`,
      'relup.actor.chat.room.iso2',
      'relup.ctl.j1',
    ]) {
      const violation = firstViolation(nc);
      nc.publish(subject, encode({ type: 'session.closed' }));
      expect(await violation, subject).toMatch(/permissions violation for publish/i);
    }
    // Nothing changed for the victim: its session is live and still says as itself.
    expect(node.services.get('chat')?.hasSession(victim.id)).toBe(true);
    expect(await victim.request({ type: 'say', text: 'mine' })).toMatchObject({ ok: true });
    const history = await eve.request({ type: 'history' });
    expect((history.messages as { user: string }[]).map((m) => m.user)).toEqual(['vic']);
  });

  it("a client cannot get credentials for another's session by resuming it with its own key", async () => {
    const victim = await open('vic3', 'iso3');
    const guest = await as('guest-thief.creds', auth.guestCreds);
    const { createUser } = await import('@nats-io/nkeys');
    const reply = await guest.request(
      'relup.svc.chat.connect',
      encode({ session: victim.id, key: createUser().getPublicKey() }),
      { timeout: 10_000 },
    );
    expect(reply.json()).toMatchObject({ ok: false, error: { code: 'SESSION_REFUSED' } });
    expect(JSON.stringify(reply.json())).not.toContain('credentials');
  });

  it('credentials expire and are renewed: the session keeps working past the first expiry', async () => {
    const s = await open('long', 'iso4');
    const first = s.expires ?? 0;
    // ttl 4 s: renewed at a third of its life, the server drops the old JWT at expiry and the
    // client reconnects with the renewed one.
    await expect.poll(() => s.expires ?? 0, { timeout: 10_000, interval: 200 }).toBeGreaterThan(first);
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now() + 500)));
    expect(await s.request({ type: 'say', text: 'after expiry' })).toMatchObject({ ok: true });
  }, 30_000);

  it("a node answers only on its own control subject: j2's identity cannot subscribe to relup.ctl.j1", async () => {
    const j2 = await as('node-j2.creds', auth.nodeCreds.j2 ?? '');
    const violation = firstViolation(j2);
    j2.subscribe('relup.ctl.j1');
    expect(await violation).toMatch(/permissions violation for subscription to "relup\.ctl\.j1"/i);
    const events = firstViolation(j2);
    j2.publish('relup.evt.j1', encode({ type: 'forged' }));
    expect(await events).toMatch(/permissions violation for publish to "relup\.evt\.j1"/i);
  });
});
