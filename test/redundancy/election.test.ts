import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { leaseTiming } from '../../src/nats/lease-timing.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type Elector, startElector, TEST_TIMING } from './election-fixture.ts';

const nats = useNats();
const open: Elector[] = [];
let n = 0;

async function pair(opts: { bucket?: string } = {}): Promise<[Elector, Elector]> {
  const service = `svc${++n}`;
  const port = nats.server().port;
  const a = await startElector(port, service, 'n1', true, opts);
  open.push(a);
  await a.next('elected');
  const b = await startElector(port, service, 'n2', false, opts);
  open.push(b);
  return [a, b];
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

describe('redundancy election on a real nats-server', () => {
  it('the primary creates the record at once in term 1 and the backup stays standby', async () => {
    const [a, b] = await pair();
    expect(a.events[0]).toMatchObject({ type: 'elected', term: 1, scan: 'on', reason: 'deploy' });
    expect(a.election.canAct()).toBe(true);
    // Several leases of renewals: the backup never campaigns against a live holder.
    const revision = a.election.view().revision;
    await new Promise((r) => setTimeout(r, 3 * TEST_TIMING.leaseMs));
    expect(a.election.view().revision).toBeGreaterThan(revision + 5);
    expect(b.events).toEqual([]);
    expect(b.election.view()).toMatchObject({ holding: false, highestTerm: 1 });
  }, 30_000);

  it('a silent holder is replaced after the lease on the backup clock, in a higher term', async () => {
    const [a, b] = await pair();
    const stoppedAt = performance.now();
    a.election.stop();
    const e = await b.next('elected');
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(TEST_TIMING.leaseMs - TEST_TIMING.beatMs);
    expect(e).toMatchObject({ term: 2, reason: 'takeover', from: 'n1', scan: 'on' });
    expect(b.election.canAct()).toBe(true);
  }, 30_000);

  it('a release hands over at once with the scan state, and the releaser does not take it back', async () => {
    const [a, b] = await pair();
    const t0 = performance.now();
    expect(await a.election.release('off', 'failover')).toBe(true);
    expect(a.election.canAct()).toBe(false);
    const e = await b.next('elected');
    // Far below the lease: the partner watched the release, it did not wait for silence.
    expect(performance.now() - t0).toBeLessThan(TEST_TIMING.leaseMs);
    expect(e).toMatchObject({ term: 2, reason: 'failover', scan: 'off' });
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    expect(a.events.filter((x) => x.type === 'elected')).toHaveLength(1);
    expect(b.election.view().holding).toBe(true);
  }, 30_000);

  it('a NATS outage of both nodes shorter than the lease changes no role', async () => {
    const [a, b] = await pair();
    await Promise.all([a.proxy.sever(), b.proxy.sever()]);
    await new Promise((r) => setTimeout(r, TEST_TIMING.leaseMs * 0.8));
    await Promise.all([a.proxy.restore(), b.proxy.restore()]);
    // Wait past a whole lease after reconnecting: the holder renewed, nobody took over.
    const revision = a.election.view().revision;
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    expect(a.election.view().revision).toBeGreaterThan(revision);
    expect(b.events.filter((x) => x.type === 'elected')).toEqual([]);
    expect(a.events.filter((x) => x.type === 'lost')).toEqual([]);
    expect(a.election.canAct()).toBe(true);
  }, 30_000);

  it('an outage of both nodes longer than the lease fences the holder meanwhile but ends in a renewal', async () => {
    const [a, b] = await pair();
    await Promise.all([a.proxy.sever(), b.proxy.sever()]);
    const suspect = await a.next('suspect');
    expect(a.election.canAct()).toBe(false);
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    await Promise.all([a.proxy.restore(), b.proxy.restore()]);
    expect(await a.next('renewed', a.events.indexOf(suspect))).toMatchObject({ term: 1 });
    await new Promise((r) => setTimeout(r, 2 * TEST_TIMING.leaseMs));
    expect(b.events.filter((x) => x.type === 'elected')).toEqual([]);
    expect(a.election.canAct()).toBe(true);
  }, 40_000);

  it('a holder cut off alone stops acting before its partner takes over, and learns it lost on reconnect', async () => {
    const [a, b] = await pair();
    await a.proxy.sever();
    const suspect = await a.next('suspect');
    const suspectAt = performance.now();
    expect(a.election.canAct()).toBe(false);
    const elected = await b.next('elected');
    const electedAt = performance.now();
    expect(suspect).toMatchObject({ term: 1 });
    expect(elected).toMatchObject({ term: 2, reason: 'takeover' });
    expect(electedAt).toBeGreaterThan(suspectAt);
    await a.proxy.restore();
    expect(await a.next('lost')).toMatchObject({ term: 1, by: 'n2' });
    expect(a.election.canAct()).toBe(false);
    expect(a.events.filter((x) => x.type === 'renewed')).toEqual([]);
  }, 40_000);

  it('refuses a timing without the drift margin with BAD_OPTIONS', () => {
    expect(() => leaseTiming({ renewDeadlineMs: 1000, leaseMs: 1100 })).toThrow(/leaseMs must be at least/);
    expect(() => leaseTiming({ beatMs: 600, renewDeadlineMs: 1000 })).toThrow(
      expect.objectContaining({ code: 'BAD_OPTIONS' }),
    );
  });
});
