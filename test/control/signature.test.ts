import type { NatsConnection } from '@nats-io/nats-core';
import { createAccount, createOperator, createServer, createUser, type KeyPair } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { signCommand } from '../../src/control/signature.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { send } from './control-helpers.ts';

const dec = new TextDecoder();
const seedOf = (kp: KeyPair) => dec.decode(kp.getSeed());

describe('signed operator commands', () => {
  const nats = useNats();
  const operator = createUser();
  const operator2 = createOperator();
  const account = createAccount();
  const stranger = createUser();
  let node: RelupNode;
  let server: ControlServer;
  let nc: NatsConnection;
  let n = 0;
  const id = () => `s${++n}`;

  beforeAll(async () => {
    node = await startChatNode(nats.server().url, 'sig');
    server = await startControlServer(node, {
      operatorKeys: [operator.getPublicKey(), operator2.getPublicKey(), account.getPublicKey()],
    });
    nc = await nats.connect();
  });
  afterAll(async () => {
    await server?.stop();
    await node?.stop();
  });

  /** Nothing ran: the node is on 1.0.0, never upgraded, and still answers signed commands. */
  async function nothingRan(): Promise<void> {
    expect(node.release.version).toBe('1.0.0');
    expect(node.lastUpgrade).toBeUndefined();
    expect((await node.store.history()).filter((h) => h.action === 'upgraded')).toEqual([]);
    const r = await send(nc, 'sig', signCommand({ id: id(), cmd: 'status' }, 'sig', seedOf(operator)));
    expect(r).toMatchObject({ ok: true, result: { release: '1.0.0' } });
    expect(r.result.upgrading).toBeUndefined();
  }

  it('refuses bad operator keys at start: no list is BAD_OPTIONS, a bad key BAD_KEY', async () => {
    const bad: [unknown, string][] = [
      [[], 'BAD_OPTIONS'],
      ['U-not-a-list', 'BAD_OPTIONS'],
      [['not-a-key'], 'BAD_KEY'],
      [[seedOf(operator)], 'BAD_KEY'],
      [[createServer().getPublicKey()], 'BAD_KEY'],
      [[`${operator.getPublicKey().slice(0, -2)}AA`], 'BAD_KEY'],
    ];
    for (const [operatorKeys, code] of bad)
      await expect(
        startControlServer(node, { operatorKeys: operatorKeys as string[], microService: false }),
      ).rejects.toMatchObject({ code });
  });

  it('accepts a command signed by a trusted user, operator or account key', async () => {
    for (const kp of [operator, operator2, account]) {
      const r = await send(nc, 'sig', signCommand({ id: id(), cmd: 'status', args: {} }, 'sig', seedOf(kp)));
      expect(r, JSON.stringify(r.error)).toMatchObject({ ok: true, result: { node: 'sig' } });
    }
  });

  it('refuses an unsigned command (UNSIGNED_COMMAND) without running it', async () => {
    const r = await send(nc, 'sig', { id: 'u1', cmd: 'upgrade', args: { to: '1.1.0' } });
    expect(r).toMatchObject({ id: 'u1', ok: false, error: { code: 'UNSIGNED_COMMAND' } });
    await nothingRan();
  });

  it('refuses tampered args, command or node (BAD_SIGNATURE) without running it', async () => {
    const signed = signCommand({ id: id(), cmd: 'check', args: { to: '1.1.0' } }, 'sig', seedOf(operator));
    const tampered = [
      { ...signed, cmd: 'upgrade' },
      { ...signed, args: { to: '1.1.0', id: 'x' } },
      { ...signed, id: 'other' },
      { ...signed, auth: { ...signed.auth, iat: signed.auth.iat + 1 } },
      { ...signed, auth: { ...signed.auth, nonce: `${signed.auth.nonce}x` } },
      signCommand({ id: id(), cmd: 'upgrade', args: { to: '1.1.0' } }, 'another-node', seedOf(operator)),
    ];
    for (const t of tampered) {
      const r = await send(nc, 'sig', t);
      expect(r, JSON.stringify(t)).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    }
    await nothingRan();
  });

  it('refuses an untrusted key, a key swap and a malformed auth block (BAD_SIGNATURE)', async () => {
    const byStranger = signCommand(
      { id: id(), cmd: 'upgrade', args: { to: '1.1.0' } },
      'sig',
      seedOf(stranger),
    );
    expect(await send(nc, 'sig', byStranger)).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    // Signed by the stranger but claiming a trusted key.
    const claimed = { ...byStranger, auth: { ...byStranger.auth, key: operator.getPublicKey() } };
    expect(await send(nc, 'sig', claimed)).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    const { sig: _sig, ...noSig } = byStranger.auth;
    expect(await send(nc, 'sig', { ...byStranger, auth: noSig })).toMatchObject({
      ok: false,
      error: { code: 'BAD_SIGNATURE' },
    });
    expect(await send(nc, 'sig', { ...byStranger, auth: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_SIGNATURE' },
    });
    await nothingRan();
  });

  it('refuses a command issued too long ago or too far ahead (COMMAND_EXPIRED), accepts small skew', async () => {
    const now = Date.now();
    for (const iat of [now - 61_000, now + 10_000]) {
      const r = await send(
        nc,
        'sig',
        signCommand({ id: id(), cmd: 'upgrade', args: { to: '1.1.0' } }, 'sig', seedOf(operator), { iat }),
      );
      expect(r).toMatchObject({ ok: false, error: { code: 'COMMAND_EXPIRED' } });
    }
    await nothingRan();
    const ahead = signCommand({ id: id(), cmd: 'status' }, 'sig', seedOf(operator), { iat: now + 2_000 });
    expect(await send(nc, 'sig', ahead)).toMatchObject({ ok: true });
  });

  it('runs a signed upgrade once; the same bytes again are REPLAYED_COMMAND and do not run', async () => {
    const up = signCommand({ id: id(), cmd: 'upgrade', args: { to: '1.1.0' } }, 'sig', seedOf(operator));
    const r = await send(nc, 'sig', up);
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result.outcome).toBe('done');
    expect(node.release.version).toBe('1.1.0');
    const down = await send(
      nc,
      'sig',
      signCommand({ id: id(), cmd: 'downgrade', args: { to: '1.0.0' } }, 'sig', seedOf(operator)),
    );
    expect(down.result?.outcome).toBe('done');
    const upgradesBefore = (await node.store.history()).filter((h) => h.action === 'upgraded').length;

    const replay = await send(nc, 'sig', up);
    expect(replay).toMatchObject({ ok: false, error: { code: 'REPLAYED_COMMAND' } });
    expect(node.release.version).toBe('1.0.0');
    expect((await node.store.history()).filter((h) => h.action === 'upgraded').length).toBe(upgradesBefore);
  });
});
