import { describe, expect, it } from 'vitest';
import { openReleaseStore } from '../../src/release/release-store.ts';
import { useNats } from '../helpers/nats-fixture.ts';

let buckets = 0;
/** A fresh bucket per test, so tests share one server but no state. */
const bucket = () => `relup_releases_t${++buckets}`;

describe('release store', () => {
  const nats = useNats();

  it('keeps the current release per node', async () => {
    const store = await openReleaseStore(await nats.connect(), { bucket: bucket() });
    expect(await store.current('n1')).toBeUndefined();
    await store.setCurrent('n1', '1.0.0');
    await store.setCurrent('n2', '1.1.0');
    await store.setCurrent('n1', '1.2.0');
    expect(await store.current('n1')).toBe('1.2.0');
    expect(await store.current('n2')).toBe('1.1.0');
    await expect(store.setCurrent('n.1', '1.0.0')).rejects.toMatchObject({ code: 'NOT_SUBJECT_SAFE' });
    await expect(store.setCurrent('n1', 'latest')).rejects.toMatchObject({ code: 'BAD_VERSION' });
  });

  it('moves the permanent release by compare-and-set and refuses a stale revision', async () => {
    const name = bucket();
    const a = await openReleaseStore(await nats.connect(), { bucket: name });
    const b = await openReleaseStore(await nats.connect(), { bucket: name });
    expect(await a.permanent()).toBeUndefined();
    const first = await a.makePermanent('1.0.0', 0);
    await expect(b.makePermanent('0.9.0', 0)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await b.permanent()).toEqual({ version: '1.0.0', revision: first });

    const stale = first;
    const second = await b.makePermanent('1.1.0', stale);
    await expect(a.makePermanent('1.2.0', stale)).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { key: 'permanent', expectedRevision: stale, actual: { version: '1.1.0', revision: second } },
    });
    expect(await a.permanent()).toEqual({ version: '1.1.0', revision: second });

    await expect(a.makePermanent('1.2.0', -1)).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
    const forced = await a.makePermanent('1.2.0');
    expect(await b.permanent()).toEqual({ version: '1.2.0', revision: forced });
  });

  it('appends history in order and keeps only the last entries', async () => {
    const store = await openReleaseStore(await nats.connect(), { bucket: bucket(), historyLimit: 3 });
    expect(await store.history()).toEqual([]);
    const installed = await store.record({ node: 'n1', action: 'installed', to: '1.0.0' });
    expect(installed.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    await store.record({ node: 'n1', action: 'upgraded', from: '1.0.0', to: '1.1.0' });
    await store.record({
      node: 'n1',
      action: 'made_permanent',
      to: '1.1.0',
      time: '2025-01-01T00:00:00.000Z',
    });
    expect(await store.history()).toEqual([
      installed,
      { node: 'n1', action: 'upgraded', from: '1.0.0', to: '1.1.0', time: expect.any(String) },
      { node: 'n1', action: 'made_permanent', to: '1.1.0', time: '2025-01-01T00:00:00.000Z' },
    ]);
    await store.record({ node: 'n1', action: 'rolled_back', from: '1.1.0', to: '1.0.0' });
    expect((await store.history()).map((e) => e.action)).toEqual([
      'upgraded',
      'made_permanent',
      'rolled_back',
    ]);
  });

  it('loses no history entry when two connections record concurrently', async () => {
    const name = bucket();
    const a = await openReleaseStore(await nats.connect(), { bucket: name });
    const b = await openReleaseStore(await nats.connect(), { bucket: name });
    const n = 15;
    // Each node writes its entries one after another, both nodes at once, plus a burst from both.
    const sequential = async (store: typeof a, node: string) => {
      for (let i = 0; i < n; i++) await store.record({ node, action: 'installed', to: `1.0.${i}` });
    };
    await Promise.all([
      sequential(a, 'a'),
      sequential(b, 'b'),
      ...Array.from({ length: n }, (_, i) =>
        a.record({ node: 'burst', action: 'installed', to: `2.0.${i}` }),
      ),
      ...Array.from({ length: n }, (_, i) =>
        b.record({ node: 'burst', action: 'installed', to: `3.0.${i}` }),
      ),
    ]);
    const history = await a.history();
    expect(history).toHaveLength(4 * n);
    const of = (node: string) => history.filter((e) => e.node === node).map((e) => e.to);
    expect(of('a')).toEqual(Array.from({ length: n }, (_, i) => `1.0.${i}`));
    expect(of('b')).toEqual(Array.from({ length: n }, (_, i) => `1.0.${i}`));
    expect(new Set(of('burst')).size).toBe(2 * n);
  });
});
