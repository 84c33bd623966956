// Beyond the document's table, on two real `relup node` processes serving chat as a warm pair:
// the active paused past its lease (SIGSTOP, then SIGCONT), cut off from NATS (a loopback proxy
// severed, then restored), and the nats-server itself restarted. What is asserted each time:
// every request is answered once, by the node that holds the term it carries; the acknowledged
// messages of the session survive; a deposed active never serves its stale copy again.
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/nats/codec.ts';
import { subjects } from '../../src/nats/subjects.ts';
import { startTcpProxy } from '../../src/nats/tcp-proxy.ts';

import { readTerm, type TermStamp } from '../../src/nats/term-header.ts';
import { Session } from '../../src/services/client.ts';
import { command } from '../helpers/node-spawn.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { LONG_LEASE, resumeSession, usePairRig } from './node-pair-fixture.ts';
import { SHUTDOWN_TABLE } from './shutdown-table.ts';

const SUBJECTS = subjects();

/**
 * Sends session messages with a reply subject of its own each, so a second answer (from a
 * deposed active) is seen, not swallowed as the first one of a request would be.
 */
class Probe {
  private readonly replies = new Map<number, { body: Record<string, unknown>; term?: TermStamp }[]>();
  private readonly waiting = new Map<number, () => void>();
  private n = 0;
  private readonly sub;

  constructor(
    private readonly nc: NatsConnection,
    private readonly session: string,
  ) {
    this.sub = nc.subscribe(`probe.${session}.>`, {
      callback: (err, msg: Msg) => {
        if (err) return;
        const i = Number(msg.subject.split('.').pop());
        const list = this.replies.get(i) ?? [];
        list.push({ body: decode(msg.data), term: readTerm(msg.headers) });
        this.replies.set(i, list);
        this.waiting.get(i)?.();
      },
    });
  }

  /** Sends a message; resolves with its first answer, or undefined when none came within `ms`. */
  async send(event: Record<string, unknown>, ms = 3000): Promise<Record<string, unknown> | undefined> {
    const i = ++this.n;
    await this.nc.flush();
    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiting.set(i, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.nc.publish(SUBJECTS.session(this.session), encode(event), { reply: `probe.${this.session}.${i}` });
    return (await answered) ? this.replies.get(i)?.[0]?.body : undefined;
  }

  /** Every answer to every message sent, by message number. */
  all(): Map<number, { body: Record<string, unknown>; term?: TermStamp }[]> {
    return this.replies;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

describe('redundancy - faults beyond the table, on two relup node processes', { timeout: 120_000 }, () => {
  const rig = usePairRig();

  it('SIGSTOP of the active past its lease: the backup takes the session over; after SIGCONT the old active answers nothing, drops its stale copy and is the standby', async () => {
    const { pair, nc } = await rig().deployedPair();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'stop' });
    const probe = new Probe(nc, s.id);
    try {
      expect(await probe.send({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
      const s1 = pair.running.s1!;
      process.kill(s1.pid, 'SIGSTOP');
      await pair.until({ s2: 'active on scan' });
      expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
      expect(await probe.send({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
      process.kill(s1.pid, 'SIGCONT');
      // Right after the pause the old active still has the session's subscription and its copy
      // (seq 1): it must neither answer nor write while it learns it lost.
      const says = ['three', 'four', 'five', 'six', 'seven', 'eight'];
      for (const [i, text] of says.entries())
        expect(await probe.send({ type: 'say', text })).toEqual({ ok: true, seq: 3 + i });
      await pair.until({ s1: 'standby', s2: 'active on scan' });
      expect(await probe.send({ type: 'say', text: 'nine' })).toEqual({ ok: true, seq: 9 });
      // Quiet period (a lease): a late second answer would arrive within it.
      await new Promise((r) => setTimeout(r, TEST_TIMING.leaseMs));
      for (const [i, answers] of probe.all()) {
        expect(answers, `message ${i}`).toHaveLength(1);
        if (i > 1) expect(answers[0]?.term).toMatchObject({ service: 'chat', holder: 's2' });
      }
      const terms = [...probe.all().values()].map((a) => a[0]?.term?.term ?? 0);
      expect(terms[0]).toBeLessThan(terms[1]!);
      // The old active did not keep its copy: after the new active dies, it restores the session
      // from the newer term's record, with every acknowledged message.
      await pair.act('server 2 hard failure');
      await pair.until({ s1: 'active on scan', s2: 'down' });
      expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
      expect(await probe.send({ type: 'say', text: 'ten' })).toEqual({ ok: true, seq: 10 });
      const history = (await probe.send({ type: 'history' })) as { messages: { text: string }[] };
      expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', ...says, 'nine', 'ten']);
    } finally {
      probe.stop();
    }
  });

  it('the active cut off from NATS (its proxy severed): it fences itself, the backup takes the session over; on reconnect the old active answers nothing and is the standby', async () => {
    const { nats, nc } = await rig().server();
    const proxy = await startTcpProxy({ targetPort: nats.port });
    try {
      const row = SHUTDOWN_TABLE.find((r) => r.mode === 'warm' && r.action === 'deploy')!;
      const pair = rig().pair(row, nats, nc, { urls: { s1: proxy.url } });
      await pair.act('deploy');
      await pair.until({ s1: 'active on scan', s2: 'standby' });
      pair.hooksSince();
      const s = await Session.open(nc, 'chat', { user: 'ada', room: 'cut' });
      const probe = new Probe(nc, s.id);
      try {
        expect(await probe.send({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
        await proxy.sever();
        await pair.until({ s2: 'active on scan' });
        expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
        expect(await probe.send({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
        await proxy.restore();
        // The old active reconnects and subscribes to the session again: it must stay silent.
        const says = ['three', 'four', 'five', 'six'];
        for (const [i, text] of says.entries())
          expect(await probe.send({ type: 'say', text })).toEqual({ ok: true, seq: 3 + i });
        await pair.until({ s1: 'standby', s2: 'active on scan' });
        await new Promise((r) => setTimeout(r, TEST_TIMING.leaseMs));
        for (const [i, answers] of probe.all()) {
          expect(answers, `message ${i}`).toHaveLength(1);
          if (i > 1) expect(answers[0]?.term).toMatchObject({ service: 'chat', holder: 's2' });
        }
        // Cut off, s1 took itself off scan (fenced); it never ran a hook for the service as active again.
        const hooks = pair.hooksSince();
        expect(hooks.s1).toContain('offScan:fenced');
        expect(hooks.s1.filter((h) => h.startsWith('onScan'))).toEqual([]);
        expect(hooks.s2).toContain('onScan:takeover');
        await pair.act('server 2 hard failure');
        await pair.until({ s1: 'active on scan', s2: 'down' });
        expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
        const history = (await probe.send({ type: 'history' })) as { messages: { text: string }[] };
        expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', ...says]);
      } finally {
        probe.stop();
      }
    } finally {
      await proxy.close();
    }
  });

  it('a restart of the nats-server shorter than the lease changes no role, and the session goes on', async () => {
    const { pair, nats, nc } = await rig().deployedPair({ release: '1.0.32' });
    pair.hooksSince();
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'restart' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    const termOf = async (n: 's1' | 's2') =>
      ((await command(nc, n, 'status')).redundancy as { term: number }[])[0]?.term;
    const before = await termOf('s1');
    const t0 = performance.now();
    await nats.restart();
    await pair.until({ s1: 'active on scan', s2: 'standby' });
    const outageMs = performance.now() - t0;
    expect(outageMs).toBeLessThan(LONG_LEASE.leaseMs);
    expect(await termOf('s1')).toBe(before);
    // The standby counted no silence while it was cut off itself: it never campaigned or ran a hook.
    const hooks = pair.hooksSince();
    expect(hooks.s2).toEqual([]);
    expect(hooks.s1.filter((h) => !h.endsWith(':fenced') && !h.endsWith(':recovered'))).toEqual([]);
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    const history = await s.request({ type: 'history' });
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(['one', 'two']);
  });
});
