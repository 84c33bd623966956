import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodeJwt } from '@nats-io/jwt';
import { jwtAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { createUser } from '@nats-io/nkeys';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { decode, encode } from '../../src/nats/codec.ts';
import { connectNats, OPERATOR_INBOX } from '../../src/nats/connect.ts';
import { createDeploymentAuth, type DeploymentAuth } from '../../src/nats/deployment-auth.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import type { SessionCredentials } from '../../src/services/session-credentials.ts';
import { command } from '../control/control-helpers.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { firstViolation } from '../helpers/violations.ts';
import { holdAtBarrier } from './held-upgrade.ts';

/** Resolves as `p` does, or rejects with `what` after `ms`: a bound on a wait for an event. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
    // ttl 4 s: the shortest that leaves the renewal test room (the issuer's minimum is 1 s).
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

  it("expired credentials: the JWT exp is the reply's expires; past it the server drops and refuses the old user", async () => {
    // A raw client that keeps the credentials of its connect and never renews them.
    const guest = await as('guest-stale.creds', auth.guestCreds);
    const key = createUser();
    const reply = decode<{ ok: boolean; session: string; credentials: SessionCredentials }>(
      (
        await guest.request(
          'relup.svc.chat.connect',
          encode({ user: 'stale', room: 'iso6', key: key.getPublicKey() }),
          { timeout: 10_000 },
        )
      ).data,
    );
    expect(reply).toMatchObject({ ok: true, credentials: { jwt: expect.any(String) } });
    const { jwt, inboxPrefix, expires } = reply.credentials;
    const claims = decodeJwt<{ pub: { allow: string[] }; sub: { allow: string[] } }>(jwt);
    // exp is in seconds, expires in ms: the reply's expiry cut to whole seconds, never later.
    const exp = claims.exp ?? 0;
    expect(exp).toBe(Math.floor(expires / 1000));
    expect(claims.sub).toBe(key.getPublicKey());
    expect(claims.nats.sub?.allow).toEqual([`relup.ses.${reply.session}.push`, `${inboxPrefix}.>`]);
    expect(expires - Date.now()).toBeLessThanOrEqual(4000);

    const signIn = () =>
      connect({
        servers: server.url,
        authenticator: jwtAuthenticator(jwt, key.getSeed()),
        inboxPrefix,
        reconnect: false,
      });
    const stale = await signIn();
    conns.push(stale);
    const ses = `relup.ses.${reply.session}`;
    const said = await stale.request(ses, encode({ type: 'say', text: 'before expiry' }), { timeout: 5000 });
    expect(decode(said.data)).toMatchObject({ ok: true });

    // The server closes the connection when the JWT expires; the deadline only bounds a failure.
    const closed = await within(
      stale.closed().then((err) => ({ err: String(err), at: Date.now() })),
      expires - Date.now() + 5000,
      'the server kept the expired user connected',
    );
    expect(closed.err).toMatch(/expired/i);
    expect(closed.at).toBeGreaterThanOrEqual(exp * 1000);
    // Signing in again with the old JWT: within the second of exp nats-server still takes the
    // CONNECT (it checks now > exp in whole seconds) and drops the user at once; after that
    // second it refuses the CONNECT.
    const attempt = () =>
      within(
        signIn().then(
          async (nc) => {
            conns.push(nc);
            return String(await nc.closed());
          },
          (err: unknown) => String(err),
        ),
        5000,
        'the server took the expired user',
      );
    expect(await attempt()).toMatch(/expired|authorization violation/i);
    await new Promise((r) => setTimeout(r, Math.max(0, (exp + 1) * 1000 - Date.now())));
    expect(await attempt()).toMatch(/authorization violation/i);
  }, 30_000);

  it('operator replies: the operator user may not read _INBOX.>, relupctl works with its creds; guests and sessions may not read _INBOX_OPS', async () => {
    const opCreds = creds('operator.creds', auth.operatorCreds);
    const op = await as('operator.creds', auth.operatorCreds);
    const violation = firstViolation(op);
    op.subscribe('_INBOX.>');
    expect(await violation).toMatch(/permissions violation for subscription to "_INBOX\.>"/i);
    const out = await relupctl(['--nats', server.url, '--creds', opCreds, '--json', 'status']);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject([{ node: 'j1', release: '1.0.0' }]);

    const guest = await as('guest-ops.creds', auth.guestCreds);
    const s = await open('ops', 'iso7');
    for (const nc of [guest, connOf(s)]) {
      const refused = firstViolation(nc);
      nc.subscribe('_INBOX_OPS.>');
      expect(await refused).toMatch(/permissions violation for subscription to "_INBOX_OPS\.>"/i);
    }
  });

  it("a node's identity cannot command another node nor open or abort its barrier: j1's upgrade stays held", async () => {
    const op = await connectNats({
      servers: server.url,
      credsFile: creds('operator-ctl.creds', auth.operatorCreds),
      inboxPrefix: OPERATOR_INBOX,
    });
    conns.push(op);
    const j2 = await as('node-j2-ctl.creds', auth.nodeCreds.j2 ?? '');
    const before = (await command(op, 'j1', 'status')).result;
    const upgrade = await holdAtBarrier(op, 'j1', 'x', {
      id: 'held',
      cmd: 'upgrade',
      args: { to: '1.1.0', barrier: { id: 'x', timeoutMs: 30_000 } },
    });
    const forged: [string, unknown][] = [
      ['relup.ctl.j1', { id: 'j2-up', cmd: 'upgrade', args: { to: '1.1.0' } }],
      ['relup.barrier.x.go', { decision: 'go' }],
      ['relup.barrier.x.abort', { reason: 'j2' }],
    ];
    for (const [subject, body] of forged) {
      const violation = firstViolation(j2);
      j2.publish(subject, encode(body));
      expect(await violation, subject).toMatch(/permissions violation for publish/i);
    }
    // Still held at the barrier: neither j2's go nor its abort got there.
    expect(node.status()).toMatchObject({ release: '1.0.0', upgrading: expect.any(String) });
    op.publish('relup.barrier.x.abort', encode({ reason: 'operator' }));
    const r = await upgrade.reply;
    expect(r.result.outcome).toBe('aborted');
    expect(JSON.stringify(r.result.error)).toContain('operator');
    const after = (await command(op, 'j1', 'status')).result;
    for (const field of ['release', 'state', 'maintenance', 'incarnation'])
      expect(after[field], field).toEqual(before[field]);
    expect(node.release.version).toBe('1.0.0');
  });

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
