import { Kvm } from '@nats-io/kv';
import { headers } from '@nats-io/nats-core';
import { afterEach, describe, expect, it } from 'vitest';
import { readTerm, stampTerm } from '../../src/nats/term-header.ts';
import { FencedKv } from '../../src/redundancy/fenced-kv.ts';
import { TermGuard } from '../../src/redundancy/term-guard.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type Elector, startElector } from './election-fixture.ts';

const nats = useNats();
const open: Elector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

describe('redundancy fencing', () => {
  it('a receiver refuses a lower term and flags the same term from another holder', () => {
    const g = new TermGuard();
    expect(g.admit({ service: 's', term: 2, holder: 'n1' })).toBe('current');
    expect(g.admit({ service: 's', term: 2, holder: 'n1' })).toBe('current');
    expect(g.admit({ service: 's', term: 1, holder: 'n2' })).toBe('stale');
    expect(g.admit({ service: 's', term: 2, holder: 'n2' })).toBe('conflict');
    expect(g.admit({ service: 's', term: 3, holder: 'n2' })).toBe('current');
    expect(g.admit({ service: 's', term: 2, holder: 'n1' })).toBe('stale');
    expect(g.admit({ service: 'other', term: 1, holder: 'n1' })).toBe('current');
    expect(g.refused).toEqual({ stale: 2, conflict: 1 });
  });

  it('the term headers round-trip and a malformed one reads as none', () => {
    const h = stampTerm({ service: 'poller', term: 42, holder: 'n1' });
    expect(readTerm(h)).toEqual({ service: 'poller', term: 42, holder: 'n1' });
    const bad = headers();
    bad.set('Relup-Term', 'poller:-1');
    expect(readTerm(bad)).toBeUndefined();
    expect(readTerm(undefined)).toBeUndefined();
  });

  it('a deposed active cannot overwrite state the new term wrote, nor write once it is past its deadline', async () => {
    const port = nats.server().port;
    const a = await startElector(port, 'fenced1', 'n1', true);
    open.push(a);
    await a.next('elected');
    const b = await startElector(port, 'fenced1', 'n2', false);
    open.push(b);
    const nc = await nats.connect();
    const store = new FencedKv(await new Kvm(nc).create('fenced_test', { history: 1 }));
    const oldFence = a.election.fence()!;
    await store.put('state', { n: 1 }, oldFence);

    await a.proxy.sever();
    await b.next('elected');
    // Past the renew deadline: the old active's own check refuses before touching the store.
    await expect(store.put('state', { n: 2 }, oldFence)).rejects.toMatchObject({ code: 'FENCED' });
    const newFence = b.election.fence()!;
    expect(newFence.term).toBe(2);
    await store.put('state', { n: 3 }, newFence);

    // A stale writer whose clock check passed (a pause between check and write) is refused by the store.
    const stale = { ...oldFence, canAct: () => true };
    await expect(store.put('state', { n: 4 }, stale)).rejects.toMatchObject({ code: 'FENCED' });
    expect(await store.get('state')).toEqual({ term: 2, holder: 'n2', value: { n: 3 } });
  }, 30_000);
});
