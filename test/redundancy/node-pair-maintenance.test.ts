// Maintenance on one node of a redundant pair, on two real `relup node` processes serving chat:
// the node steps out of the pair (an active hands the service over first, as in a forced
// failover, so the partner keeps serving its sessions), is not elected while in maintenance,
// and comes back as a member when it ends (a warm standby runs the service again, a legacy one
// runs nothing; with no active left, it takes the service itself).

import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/services/client.ts';
import { command } from '../helpers/node-spawn.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { resumeSession, usePairRig } from './node-pair-fixture.ts';

/** The phase of a node's side of the chat pair, from its status (read, never assumed from a missing answer). */
async function pairPhase(nc: NatsConnection, node: string): Promise<string | undefined> {
  const status = await command(nc, node, 'status');
  return (status.redundancy as { phase: string }[] | undefined)?.[0]?.phase;
}

/** The services a node runs now, from its status. */
async function running(nc: NatsConnection, node: string): Promise<string[]> {
  const status = await command(nc, node, 'status');
  return (status.services as { name: string }[]).map((s) => s.name);
}

describe('redundancy - maintenance on one node of a pair, on two relup node processes', {
  timeout: 120_000,
}, () => {
  const rig = usePairRig();

  it('maintenance on the warm active: the partner takes the service on scan with every acknowledged message; maintenance off brings it back as the standby', async () => {
    const { pair, nc } = await rig().deployedPair({ mode: 'warm' });
    const pushes: Record<string, unknown>[] = [];
    const s = await Session.open(nc, 'chat', { user: 'ada', room: 'm1' }, { onPush: (m) => pushes.push(m) });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    pair.hooksSince();
    const on = await command(nc, 's1', 'maintenance', { on: true, message: 'disk swap', grace: 400 });
    expect(on).toMatchObject({ state: 'maintenance', stopped: ['chat'] });
    await pair.until({ s1: 'down', s2: 'active on scan' });
    // s1 ran the hooks of an active stepping out; s2 those of a warm standby taking over on scan.
    expect(pair.hooksSince()).toEqual({
      s1: ['offScan:maintenance', 'shutdown:maintenance'],
      s2: ['onScan:failover'],
    });
    expect(await running(nc, 's1')).toEqual([]);
    expect(await pairPhase(nc, 's1')).toBe('down');
    // The session was handed over, not closed: it resumes on s2 and goes on counting.
    expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });
    // New sessions are admitted meanwhile (by s2; a connect that reaches s1 is passed on).
    const fresh = [];
    for (let i = 0; i < 4; i++)
      fresh.push(await Session.open(nc, 'chat', { user: `u${i}`, room: `m1-${i}` }));
    for (const f of fresh) expect(await f.request({ type: 'say', text: 'hi' })).toEqual({ ok: true, seq: 1 });

    const off = await command(nc, 's1', 'maintenance', { on: false });
    expect(off).toMatchObject({ state: 'ready', started: ['chat'] });
    await pair.until({ s1: 'standby', s2: 'active on scan' });
    expect(pair.hooksSince()).toEqual({ s1: ['startup:maintenance'], s2: [] });
    expect(await running(nc, 's1')).toEqual(['chat']);
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
    const history = (await s.request({ type: 'history' })) as { messages: { text: string }[] };
    expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    // Its service moved to the partner: nobody told the session it would be disconnected.
    expect(pushes.filter((m) => m.type === 'maintenance')).toEqual([]);
  });

  it('a client that sends all along while the active goes into maintenance: every acknowledged message kept, none refused', async () => {
    const { pair, nc } = await rig().deployedPair({ mode: 'warm' });
    const s = await Session.open(nc, 'chat', { user: 'cy', room: 'm3' }, { resumeWithinMs: 20_000 });
    const acked: { text: string; seq: number }[] = [];
    const failures: string[] = [];
    let sending = true;
    const client = (async () => {
      for (let i = 0; sending; i++) {
        const text = `m${i}`;
        try {
          const r = (await s.request({ type: 'say', text })) as { seq: number };
          acked.push({ text, seq: r.seq });
        } catch (err) {
          failures.push((err as { code?: string }).code ?? String(err));
        }
      }
    })();
    try {
      // Some traffic before, during and after the hand-over.
      await expect.poll(() => acked.length).toBeGreaterThan(20);
      expect(await command(nc, 's1', 'maintenance', { on: true, message: 'disk swap' })).toMatchObject({
        stopped: ['chat'],
      });
      await pair.until({ s1: 'down', s2: 'active on scan' });
      const handedAt = acked.length;
      await expect.poll(() => acked.length).toBeGreaterThan(handedAt + 20);
    } finally {
      sending = false;
      await client;
    }
    // A message in flight during the hand-over may time out (sent again by nobody); none is
    // refused or finds its session closed.
    expect(failures.filter((c) => c !== 'TIMEOUT')).toEqual([]);
    const seqs = acked.map((a) => a.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    const history = (await s.request({ type: 'history' })) as { messages: { text: string }[] };
    const kept = new Set(history.messages.map((m) => m.text));
    expect(acked.filter((a) => !kept.has(a.text))).toEqual([]);
  });

  it('maintenance off sent while on still hands the pair over waits for it: the last command wins, the node ends ready and back in its pair', async () => {
    const gate = join(rig().sandbox.releasesDir, 'hook-gate');
    const { pair, nc } = await rig().deployedPair({ mode: 'warm', hookGates: { s1: gate } });
    let off: Promise<Record<string, unknown>> | undefined;
    // The off arrives while the active's offScan hook holds its hand-over.
    const on = await pair.holdingHook(
      's1',
      'offScan:maintenance',
      () => command(nc, 's1', 'maintenance', { on: true, message: 'race' }),
      async () => {
        off = command(nc, 's1', 'maintenance', { on: false });
        // Commands on one subscription arrive in order: once this is answered, the off is at the node.
        await command(nc, 's1', 'status');
      },
    );
    expect(on).toMatchObject({ stopped: ['chat'] });
    expect(await off).toMatchObject({ state: 'ready', started: ['chat'] });
    await pair.until({ s1: 'standby', s2: 'active on scan' });
    expect(await command(nc, 's1', 'status')).toMatchObject({ state: 'ready', services: [{ name: 'chat' }] });
  });

  it('a lease the active gives up while the standby steps out for maintenance is not taken by the standby', async () => {
    const gate = join(rig().sandbox.releasesDir, 'hook-gate-2');
    // Only s2's hooks wait: s1 hands over while s2 is half-way out.
    const { pair, nc } = await rig().deployedPair({ mode: 'warm', hookGates: { s2: gate } });
    const term = ((await command(nc, 's1', 'status')).redundancy as { term: number }[])[0]!.term;
    await pair.holdingHook(
      's2',
      'shutdown:maintenance',
      () => command(nc, 's2', 'maintenance', { on: true, message: 'standby out' }),
      async () => {
        expect(await pair.pair('s1', 'failover')).toMatchObject({ ok: true });
      },
    );
    // Nobody else campaigns: s1 takes the service back in the next term (s2 took the term and
    // held it, unserved, until its lease ran out).
    await pair.until({ s1: 'active on scan' });
    expect(await pairPhase(nc, 's2')).toBe('down');
    const after = ((await command(nc, 's1', 'status')).redundancy as { term: number }[])[0]!.term;
    expect(after).toBe(term + 1);
  });

  it('maintenance on the legacy standby: it is not elected while in maintenance, even when the active dies; maintenance off makes it the active with the session', async () => {
    const { pair, nc } = await rig().deployedPair({ mode: 'legacy' });
    const s = await Session.open(nc, 'chat', { user: 'bo', room: 'm2' });
    expect(await s.request({ type: 'say', text: 'one' })).toEqual({ ok: true, seq: 1 });
    pair.hooksSince();
    expect(await command(nc, 's2', 'maintenance', { on: true, message: 'kernel update' })).toMatchObject({
      state: 'maintenance',
      stopped: ['chat'],
    });
    await pair.until({ s1: 'active on scan', s2: 'down' });
    // A legacy standby runs nothing: stepping out runs no hook, and the active is untouched.
    expect(pair.hooksSince()).toEqual({ s1: [], s2: [] });
    expect(await s.request({ type: 'say', text: 'two' })).toEqual({ ok: true, seq: 2 });

    await pair.act('server 1 hard failure');
    // Nothing to wait for but time: two leases pass and nobody takes over, the node in
    // maintenance stays out of the pair.
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    expect(await pairPhase(nc, 's2')).toBe('down');
    expect(await running(nc, 's2')).toEqual([]);

    expect(await command(nc, 's2', 'maintenance', { on: false })).toMatchObject({
      state: 'ready',
      started: ['chat'],
    });
    await pair.until({ s2: 'active on scan' });
    expect(pair.hooksSince().s2).toEqual(['startup:takeover', 'onScan:takeover']);
    expect(await resumeSession(nc, s.id)).toMatchObject({ ok: true, session: s.id });
    expect(await s.request({ type: 'say', text: 'three' })).toEqual({ ok: true, seq: 3 });
  });
  it('a node that restarts in maintenance keeps out of its pair until maintenance ends, then stands by again', async () => {
    const { pair, nc } = await rig().deployedPair({ mode: 'warm' });
    expect(await command(nc, 's2', 'maintenance', { on: true, message: 'memory test' })).toMatchObject({
      stopped: ['chat'],
    });
    await pair.until({ s1: 'active on scan', s2: 'down' });
    await pair.act('graceful shutdown of server 2');
    pair.hooksSince();
    await pair.boot('s2');
    // The operator's maintenance outlived the restart: the pair is there, withdrawn, the service not running.
    expect(await command(nc, 's2', 'status')).toMatchObject({
      state: 'maintenance',
      services: [],
      redundancy: [{ service: 'chat', state: 'down' }],
    });
    expect(await command(nc, 's2', 'maintenance', { on: false })).toMatchObject({
      state: 'ready',
      started: ['chat'],
    });
    await pair.until({ s1: 'active on scan', s2: 'standby' });
    expect(pair.hooksSince()).toEqual({ s1: [], s2: ['startup:maintenance'] });
    expect(await running(nc, 's2')).toEqual(['chat']);
  });
});
