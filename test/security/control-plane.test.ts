import type { NatsConnection } from '@nats-io/nats-core';
import { createUser } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signVerdict } from '../../src/control/barrier-signing.ts';
import { clusterUpgrade } from '../../src/control/cluster-upgrade.ts';
import { MAX_COMMAND_ID } from '../../src/control/command-schema.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { signCommand } from '../../src/control/signature.ts';
import { decode, encode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { command, type Reply, send, watchEvents } from '../control/control-helpers.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { holdAtBarrier } from './held-upgrade.ts';

const CLUSTER_KEY = 'test-cluster-key-0123456789';

/** A raw request as any client on the bus may send it; resolves with the decoded reply. */
async function raw(nc: NatsConnection, subject: string, body: unknown): Promise<Reply> {
  return decode<Reply>((await nc.request(subject, encode(body), { timeout: 10_000 })).data);
}

/** Pushes of a session, collected as they arrive, with a way to wait for one. */
function pushes() {
  const all: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  return {
    all,
    onPush: (m: Record<string, unknown>) => {
      all.push(m);
      wake?.();
    },
    async waitFor(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      for (;;) {
        const found = all.find(match);
        if (found) return found;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    },
  };
}

describe('control plane under attack: sessions, named actors, commands (issue 11 §2)', () => {
  const nats = useNats();
  let node: RelupNode;
  let control: ControlServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    node = await startChatNode(nats.server().url, 'cp', { clusterKey: CLUSTER_KEY });
    control = await startControlServer(node);
    nc = await nats.connect();
  });
  afterAll(async () => {
    await control?.stop();
    await node?.stop();
  });

  it("a client's session.closed (or any host event) on another session is BAD_MESSAGE; the victim stays in its room", async () => {
    const seen = pushes();
    const victim = await Session.open(nc, 'chat', { user: 'vic', room: 'hc' }, { onPush: seen.onPush });
    const attacker = await Session.open(nc, 'chat', { user: 'eve', room: 'hc' });
    for (const type of ['session.closed', 'xstate.init', 'relup.anything']) {
      const r = await raw(nc, `relup.ses.${victim.id}`, { type, reason: 'forged' });
      expect(r, type).toMatchObject({ ok: false, error: { code: 'BAD_MESSAGE' } });
    }
    // The room still has the victim as a member: a say reaches it as a push.
    await attacker.request({ type: 'say', text: 'still there?' });
    expect(await seen.waitFor((m) => m.text === 'still there?')).toMatchObject({ user: 'eve' });
    expect(node.services.get('chat')?.hasSession(victim.id)).toBe(true);
    await victim.close();
    await attacker.close();
  });

  it('a channel takes only the client events its service declares', async () => {
    const host = node.services.get('chat');
    if (!host) throw new Error('no chat service');
    const def = host.def;
    const s = await Session.open(nc, 'chat', { user: 'dec', room: 'decl' });
    host.load({ ...def, clientEvents: new Set(['say']) });
    try {
      await expect(s.request({ type: 'history' })).rejects.toMatchObject({
        code: 'BAD_MESSAGE',
        details: { accepted: ['say'] },
      });
      expect(await s.request({ type: 'say', text: 'declared' })).toMatchObject({ ok: true });
    } finally {
      host.load(def);
    }
    await s.close();
  });

  it("named actors take only nodes' messages: a say as root and a join for no session are FORBIDDEN; the room is unchanged", async () => {
    const member = await Session.open(nc, 'chat', { user: 'mem', room: 'na' });
    await member.request({ type: 'say', text: 'first' });
    const forged = [
      { type: 'say', user: 'root', text: 'x'.repeat(100_000) },
      { type: 'join', session: 'no-such-session', user: 'ghost' },
      { type: 'history' },
    ];
    for (const event of forged)
      expect(await raw(nc, 'relup.actor.chat.room.na', event), event.type).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
    const history = await member.request({ type: 'history' });
    expect((history.messages as { user: string }[]).map((m) => m.user)).toEqual(['mem']);
    await member.close();
  });

  it('make_permanent while an upgrade runs is BUSY and the permanent release is unchanged', async () => {
    const before = await node.store.permanent();
    const upgrade = await holdAtBarrier(nc, 'cp', 'mp', {
      id: 'mp-up',
      cmd: 'upgrade',
      args: { to: '1.1.0', barrier: { id: 'mp', timeoutMs: 20_000 } },
    });
    for (const version of ['1.0.0', '1.1.0'])
      expect(await command(nc, 'cp', 'make_permanent', { version })).toMatchObject({
        ok: false,
        error: { code: 'BUSY' },
      });
    expect(await node.store.permanent()).toEqual(before);
    nc.publish('relup.barrier.mp.abort', encode({ reason: 'test' }));
    expect((await upgrade.reply).result.outcome).toBe('aborted');
    expect(node.release.version).toBe('1.0.0');
  });

  it('an oversized invalid command id is not echoed back, neither in the reply nor in the event', async () => {
    const events = await watchEvents(nc, 'cp');
    const huge = 'i'.repeat(1_000_000);
    const msg = await nc.request('relup.ctl.cp', encode({ id: huge, cmd: 'status' }), { timeout: 10_000 });
    expect(msg.data.length).toBeLessThan(4096);
    expect(decode(msg.data)).toMatchObject({ id: null, ok: false, error: { code: 'BAD_COMMAND' } });
    const finished = await events.waitFor((e) => e.type === 'command_finished' && e.code === 'BAD_COMMAND');
    expect(finished.command).toBeNull();
    expect(JSON.stringify(finished).length).toBeLessThan(4096);
    events.stop();
  });

  it('a command id of 128 characters is echoed in the reply, also when refused; one of 129 is answered id null', async () => {
    const longest = 'i'.repeat(MAX_COMMAND_ID);
    expect(await send(nc, 'cp', { id: longest, cmd: 'status' })).toMatchObject({
      id: longest,
      ok: true,
      result: { node: 'cp' },
    });
    // Refused for another reason, it is still echoed: the limit is on the id alone.
    expect(await send(nc, 'cp', { id: longest, cmd: 'no_such_command' })).toMatchObject({
      id: longest,
      ok: false,
      error: { code: 'UNKNOWN_COMMAND' },
    });
    const over = await send(nc, 'cp', { id: `${longest}i`, cmd: 'status' });
    expect(over).toMatchObject({ id: null, ok: false, error: { code: 'BAD_COMMAND' } });
    expect(JSON.stringify(over)).not.toContain(longest);
  });

  it('retry and skip with nothing to retry answer NOTHING_TO_RETRY', async () => {
    const unchanged = async () => {
      const { release, state, maintenance, upgrading, lastUpgrade } = (await command(nc, 'cp', 'status'))
        .result;
      return {
        status: { release, state, maintenance, upgrading, lastUpgrade },
        journal: (await command(nc, 'cp', 'upgrades')).result,
        history: await node.store.history(),
      };
    };
    const before = await unchanged();
    // Not vacuous: the aborted upgrade of the make_permanent test is in the journal and history.
    expect(before.journal.upgrades.length).toBeGreaterThan(0);
    for (const cmd of ['retry', 'skip'])
      expect(await command(nc, 'cp', cmd)).toMatchObject({ ok: false, error: { code: 'NOTHING_TO_RETRY' } });
    // Nothing ran: the status, the node's upgrade journal and the cluster's history as they were.
    expect(await unchanged()).toEqual(before);
  });
});

describe('signed commands: replays after a restart and barrier verdicts (issue 11 §2)', () => {
  const nats = useNats();
  const operator = createUser();
  const seed = new TextDecoder().decode(operator.getSeed());
  let node: RelupNode | undefined;
  let control: ControlServer | undefined;
  let nc: NatsConnection;

  const boot = async () => {
    node = await startChatNode(nats.server().url, 'sg');
    control = await startControlServer(node, { operatorKeys: [operator.getPublicKey()] });
    return node;
  };
  beforeAll(async () => {
    nc = await nats.connect();
    await boot();
  });
  afterAll(async () => {
    await control?.stop();
    await node?.stop();
  });

  it('a signed command replayed to the restarted node is COMMAND_EXPIRED and changes nothing', async () => {
    const signed = signCommand({ id: 'mk', cmd: 'make_permanent', args: { version: '1.0.0' } }, 'sg', seed);
    expect(await send(nc, 'sg', signed)).toMatchObject({ ok: true });
    await control?.stop();
    await node?.stop();
    await boot();
    const revision = (await node?.store.permanent())?.revision;
    expect(await send(nc, 'sg', signed)).toMatchObject({
      id: 'mk',
      ok: false,
      error: { code: 'COMMAND_EXPIRED' },
    });
    expect((await node?.store.permanent())?.revision).toBe(revision);
    // A fresh signature goes through.
    expect(await send(nc, 'sg', signCommand({ id: 'st', cmd: 'status' }, 'sg', seed))).toMatchObject({
      ok: true,
    });
  });

  it('unsigned or forged go/abort do not move a signed upgrade held at its barrier; a signed abort does', async () => {
    const events = await watchEvents(nc, 'sg');
    const upgrade = await holdAtBarrier(
      nc,
      'sg',
      'sb',
      signCommand(
        { id: 'sb-up', cmd: 'upgrade', args: { to: '1.1.0', barrier: { id: 'sb', timeoutMs: 30_000 } } },
        'sg',
        seed,
      ),
    );
    const intruder = createUser();
    const attempts: [string, unknown, string][] = [
      ['go', { decision: 'go' }, 'UNSIGNED_COMMAND'],
      ['abort', { reason: 'unsigned' }, 'UNSIGNED_COMMAND'],
      ['go', signVerdict('sb', { decision: 'go' }, intruder.getSeed()), 'BAD_SIGNATURE'],
      [
        'abort',
        signVerdict('sb', { decision: 'abort', reason: 'forged' }, intruder.getSeed()),
        'BAD_SIGNATURE',
      ],
      // A verdict signed for another barrier does not verify on this one.
      ['go', signVerdict('other', { decision: 'go' }, seed), 'BAD_SIGNATURE'],
      ['abort', signVerdict('other', { decision: 'abort', reason: 'other barrier' }, seed), 'BAD_SIGNATURE'],
    ];
    const refusals = () => events.all.filter((e) => e.type === 'barrier_refused');
    for (const [i, [decision, body, code]] of attempts.entries()) {
      nc.publish(`relup.barrier.sb.${decision}`, encode(body));
      await events.waitFor(() => refusals().length > i);
      expect(refusals()[i]).toMatchObject({ decision, code, barrier: 'sb' });
    }
    expect(node?.status()).toMatchObject({ release: '1.0.0', upgrading: expect.any(String) });
    nc.publish(
      'relup.barrier.sb.abort',
      encode(signVerdict('sb', { decision: 'abort', reason: 'operator verdict' }, seed)),
    );
    const r = await upgrade.reply;
    expect(r.result.outcome).toBe('aborted');
    // Aborted by the signed verdict, not by any of the refused ones.
    expect(JSON.stringify(r.result.error)).toContain('operator verdict');
    expect(node?.release.version).toBe('1.0.0');
    events.stop();
  });

  it('a signed cluster upgrade behind a barrier passes with the signed go', async () => {
    const client = new ControlClient(nc, { seed });
    const result = await clusterUpgrade(client, { to: '1.1.0', mode: 'barrier' });
    expect(result).toMatchObject({ ok: true, barrier: { decision: 'go' } });
    expect(node?.release.version).toBe('1.1.0');
  });
});
