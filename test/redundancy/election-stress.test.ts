import { performance } from 'node:perf_hooks';
import { Kvm } from '@nats-io/kv';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/nats/codec.ts';
import { FencedKv } from '../../src/redundancy/fenced-kv.ts';
import { parsePairRecord, REDUNDANCY_BUCKET } from '../../src/redundancy/pair-record.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type Elector, startElector, TEST_TIMING } from './election-fixture.ts';

const nats = useNats();
const live: Elector[] = [];
afterAll(async () => {
  await Promise.all(live.map((e) => e.close()));
});

// Seeded so a failure can be replayed: RELUP_STRESS_SEED=<n>.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('redundancy election under chaos', () => {
  it('never lets two nodes act at once, and terms only grow, through cuts, restarts and releases', async () => {
    const seed = Number(process.env.RELUP_STRESS_SEED ?? Date.now() % 100_000);
    const rnd = random(seed);
    const port = nats.server().port;
    const service = 'stress';
    const nodes = ['n1', 'n2', 'n3'];
    const slots: Elector[] = [];
    for (const [i, node] of nodes.entries()) {
      const e = await startElector(port, service, node, i === 0);
      slots.push(e);
      live.push(e);
    }
    const nc = await nats.connect();
    const store = new FencedKv(await new Kvm(nc).create('stress_state', { history: 1 }));

    // The record's terms as the bucket saw them, revision by revision.
    const recordTerms: number[] = [];
    const w = await (await new Kvm(nc).open(REDUNDANCY_BUCKET)).watch({ key: service });
    void (async () => {
      for await (const e of w)
        if (e.operation === 'PUT') recordTerms.push(parsePairRecord(decode(e.value)).term);
    })();

    // Every few ms, in one synchronous pass: who may act now? At most one, and never an older term.
    const acted: { t: number; who: string; term: number }[] = [];
    const overlaps: string[] = [];
    let writes = 0;
    const written: number[] = [];
    const sampler = setInterval(() => {
      const now = performance.now();
      const acting = slots.filter((e) => e.election.canAct());
      if (acting.length > 1) overlaps.push(`${now}: ${acting.map((e) => e.node).join(',')}`);
      for (const e of acting) {
        const fence = e.election.fence()!;
        acted.push({ t: now, who: `${e.node}/${e.election.view().record?.incarnation}`, term: fence.term });
        if (writes++ % 5 === 0)
          void store.put('state', { by: e.node, at: now }, fence).then(
            () => written.push(fence.term),
            () => {},
          );
      }
    }, 5);

    const actions: string[] = [];
    const until = performance.now() + 20_000;
    while (performance.now() < until) {
      // Half the actions hit the node that holds the lease now, so every seed exercises
      // hand-overs (a run of cuts and releases on standbys alone keeps one quiet term).
      const holder = slots.findIndex((x) => x.election.canAct());
      const i = holder >= 0 && rnd() < 0.5 ? holder : Math.floor(rnd() * slots.length);
      const e = slots[i]!;
      const r = rnd();
      if (r < 0.4) {
        const ms = Math.floor(100 + rnd() * 2 * TEST_TIMING.leaseMs);
        actions.push(`cut ${e.node} ${ms}ms`);
        await e.proxy.sever();
        await new Promise((res) => setTimeout(res, ms));
        await e.proxy.restore();
      } else if (r < 0.6) {
        actions.push(`restart ${e.node}`);
        await e.close();
        const fresh = await startElector(port, service, e.node, i === 0);
        slots[i] = fresh;
        live.push(fresh);
      } else if (r < 0.8) {
        actions.push(`release ${e.node}`);
        await e.election.release(rnd() < 0.5 ? 'on' : 'off', 'failover');
      } else {
        const ms = Math.floor(rnd() * TEST_TIMING.leaseMs);
        actions.push(`wait ${ms}ms`);
        await new Promise((res) => setTimeout(res, ms));
      }
    }
    clearInterval(sampler);
    w.stop();

    const context = `seed ${seed}; actions ${actions.join('; ')}`;
    expect(overlaps, context).toEqual([]);
    // Terms never go down, over time and in the record.
    for (let k = 1; k < acted.length; k++)
      expect(acted[k]!.term, context).toBeGreaterThanOrEqual(acted[k - 1]!.term);
    for (let k = 1; k < recordTerms.length; k++)
      expect(recordTerms[k]!, context).toBeGreaterThanOrEqual(recordTerms[k - 1]!);
    // One holder per term.
    const holders = new Map<number, Set<string>>();
    for (const a of acted) holders.set(a.term, (holders.get(a.term) ?? new Set()).add(a.who));
    for (const [term, who] of holders)
      expect([term, [...who]], context).toEqual([term, [...who].slice(0, 1)]);
    // The run exercised hand-overs, not one long quiet term.
    expect(holders.size, context).toBeGreaterThan(5);
    // The store ends in the newest term that wrote: no older write landed over it.
    await new Promise((res) => setTimeout(res, 500));
    expect((await store.get('state'))?.term, context).toBe(Math.max(...written));
  }, 60_000);
});
