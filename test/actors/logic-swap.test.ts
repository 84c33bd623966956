import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, emit, setup } from 'xstate';
import { ActorHost, type PreparedSwap, type VersionedSnapshot } from '../../src/actors/actor-host.ts';
import { bulkResume, bulkSuspend } from '../../src/actors/bulk-suspend.ts';
import { RelupError } from '../../src/errors.ts';

type CounterEvent = { type: 'inc' } | { type: 'get' } | { type: 'hang' };

const v1 = setup({
  types: {} as { context: { count: number }; events: CounterEvent; input: { start?: number } | undefined },
  actions: { hang: () => new Promise<void>(() => {}) },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: input?.start ?? 0 }),
  initial: 'active',
  states: {
    active: {
      on: {
        inc: { actions: assign({ count: ({ context }) => context.count + 1 }) },
        get: { actions: emit(({ context }) => ({ type: 'reply', v: 1, count: context.count })) },
        hang: { actions: 'hang' },
      },
    },
  },
});

const v2 = setup({
  types: {} as { context: { total: number; history: number[] }; events: CounterEvent },
}).createMachine({
  id: 'counter',
  context: { total: 0, history: [] },
  initial: 'active',
  states: {
    active: {
      on: {
        inc: {
          actions: assign(({ context }) => ({
            total: context.total + 1,
            history: [...context.history, context.total + 1],
          })),
        },
        get: {
          actions: emit(({ context }) => ({
            type: 'reply',
            v: 2,
            total: context.total,
            history: context.history,
          })),
        },
      },
    },
  },
});

/** v1 → v2: `count` becomes `total`, with an empty history; pure (does not touch its input). */
function migrate({ snapshot }: VersionedSnapshot): unknown {
  const s = snapshot as { context: { count: number } };
  return { ...s, context: { total: s.context.count, history: [] } };
}

function counter(id: string, start: number): ActorHost {
  return new ActorHost({ id, logic: v1, version: '1.0.0', input: { start } });
}

function swapError(fn: () => unknown): RelupError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RelupError);
    return err as RelupError;
  }
  throw new Error('expected the swap to throw');
}

/** The all-or-nothing pattern: prepare every actor, commit only when every preparation succeeded. */
function swapAll(
  actors: ActorHost[],
  fn: (a: ActorHost) => PreparedSwap,
): { ok: true; committed: number } | { ok: false; error: RelupError } {
  const prepared: PreparedSwap[] = [];
  try {
    for (const a of actors) prepared.push(fn(a));
  } catch (err) {
    return { ok: false, error: err as RelupError };
  }
  for (const p of prepared) p.commit();
  return { ok: true, committed: prepared.length };
}

describe('logic swap', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('migrates v1 { count } into v2 { total, history }; later messages run v2', async () => {
    const host = counter('c', 0);
    for (let i = 0; i < 3; i++) host.send({ type: 'inc' });
    expect(await host.ask({ type: 'get' })).toEqual({ v: 1, count: 3 });

    const seen: VersionedSnapshot[] = [];
    host.swap(v2, '2.0.0', (persisted) => {
      seen.push(structuredClone(persisted));
      return migrate(persisted);
    });
    // the migration got the persisted, version-tagged v1 snapshot
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ version: '1.0.0', snapshot: { context: { count: 3 } } });

    expect(host.version).toBe('2.0.0');
    expect(host.logic).toBe(v2);
    expect(host.context).toEqual({ total: 3, history: [] });
    expect(host.status).toBe('running');

    host.send({ type: 'inc' });
    expect(await host.ask({ type: 'get' })).toEqual({ v: 2, total: 4, history: [4] });
    expect(host.persist()).toMatchObject({
      version: '2.0.0',
      snapshot: { context: { total: 4, history: [4] } },
    });
  });

  it('a persisted snapshot survives JSON and restores into a new host', async () => {
    const host = counter('c', 7);
    host.send({ type: 'inc' });
    const stored = JSON.parse(JSON.stringify(host.persist())) as VersionedSnapshot;
    expect(stored.version).toBe('1.0.0');
    const again = new ActorHost({ id: 'c', logic: v1, version: stored.version, snapshot: stored.snapshot });
    expect(again.context).toEqual({ count: 8 });
    expect(await again.ask({ type: 'get' })).toEqual({ v: 1, count: 8 });
  });

  it('a migrate that throws leaves the actor on v1 with the same state and version (SWAP_FAILED)', async () => {
    const host = counter('c', 5);
    const before = host.snapshot;
    const err = swapError(() =>
      host.swap(v2, '2.0.0', () => {
        throw new Error('cannot migrate');
      }),
    );
    expect(err.code).toBe('SWAP_FAILED');
    expect(err.message).toContain('cannot migrate');
    expect(host.version).toBe('1.0.0');
    expect(host.logic).toBe(v1);
    expect(host.snapshot).toBe(before);
    expect(host.context).toEqual({ count: 5 });
    expect(host.status).toBe('running');
    host.send({ type: 'inc' });
    expect(await host.ask({ type: 'get' })).toEqual({ v: 1, count: 6 });
  });

  it('a migrated snapshot naming a state v2 does not have is refused (SWAP_FAILED), actor unchanged', async () => {
    const host = counter('c', 2);
    const before = host.snapshot;
    const err = swapError(() =>
      host.swap(v2, '2.0.0', (p) => ({ ...(migrate(p) as object), value: 'nowhere' })),
    );
    expect(err.code).toBe('SWAP_FAILED');
    expect(host.version).toBe('1.0.0');
    expect(host.logic).toBe(v1);
    expect(host.snapshot).toBe(before);
    expect(await host.ask({ type: 'get' })).toEqual({ v: 1, count: 2 });
  });

  it('a migrated snapshot that restores with status error is refused (SWAP_FAILED), actor unchanged', async () => {
    const host = counter('c', 2);
    const err = swapError(() =>
      host.swap(v2, '2.0.0', (p) => ({ ...(migrate(p) as object), status: 'error', error: 'broken' })),
    );
    expect(err.code).toBe('SWAP_FAILED');
    expect(err.message).toContain('does not restore');
    expect(host.version).toBe('1.0.0');
    expect(host.context).toEqual({ count: 2 });
    expect(await host.ask({ type: 'get' })).toEqual({ v: 1, count: 2 });
  });

  it('refuses to prepare a swap while a message is in flight', () => {
    const host = counter('c', 0);
    host.send({ type: 'hang' });
    const err = swapError(() => host.prepareSwap(v2, '2.0.0', migrate));
    expect(err.code).toBe('SWAP_FAILED');
    expect(host.version).toBe('1.0.0');
    host.kill();
  });

  it('prepareSwap on several actors changes nothing until every one is committed', async () => {
    const actors = [1, 2, 3, 4, 5].map((n) => counter(`c${n}`, n * 10));
    expect(await bulkSuspend(actors, 100)).toEqual({ result: 'ok', count: 5 });
    for (const a of actors) a.send({ type: 'inc' }); // queued during the swap

    const prepared = actors.map((a) => a.prepareSwap(v2, '2.0.0', migrate));
    expect(prepared.map((p) => p.actor)).toEqual(actors);
    expect(actors.every((a) => a.version === '1.0.0' && a.logic === v1)).toBe(true);
    expect(actors.map((a) => a.context)).toEqual([10, 20, 30, 40, 50].map((count) => ({ count })));

    for (const p of prepared) p.commit();
    expect(actors.every((a) => a.version === '2.0.0' && a.logic === v2)).toBe(true);
    expect(actors.map((a) => a.context)).toEqual(
      [10, 20, 30, 40, 50].map((total) => ({ total, history: [] })),
    );

    bulkResume(actors);
    const replies = await Promise.all(actors.map((a) => a.ask({ type: 'get' })));
    expect(replies).toEqual([11, 21, 31, 41, 51].map((total) => ({ v: 2, total, history: [total] })));
  });

  it('all-or-nothing: one failed preparation means no actor is switched', async () => {
    const actors = [1, 2, 3, 4, 5].map((n) => counter(`c${n}`, n));
    await bulkSuspend(actors, 100);
    const before = actors.map((a) => a.snapshot);
    const outcome = swapAll(actors, (a) =>
      a.prepareSwap(v2, '2.0.0', (p) => {
        if ((p.snapshot as { context: { count: number } }).context.count === 4) throw new Error('bad data');
        return migrate(p);
      }),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('SWAP_FAILED');
    expect(outcome.error.details).toMatchObject({ id: 'c4', from: '1.0.0', to: '2.0.0' });
    expect(actors.every((a) => a.version === '1.0.0' && a.logic === v1)).toBe(true);
    expect(actors.map((a) => a.snapshot)).toEqual(before);
    bulkResume(actors);
    expect(await Promise.all(actors.map((a) => a.ask({ type: 'get' })))).toEqual(
      [1, 2, 3, 4, 5].map((count) => ({ v: 1, count })),
    );

    // the same pattern with a good migration switches them all
    await bulkSuspend(actors, 100);
    expect(swapAll(actors, (a) => a.prepareSwap(v2, '2.0.0', migrate))).toEqual({ ok: true, committed: 5 });
    expect(actors.every((a) => a.version === '2.0.0')).toBe(true);
    bulkResume(actors);
  });

  describe('delayed transitions across a swap', () => {
    type TimedContext = { fired: string[] };
    /**
     * `waiting` has a target-less `after`: the state is not re-entered when it fires, so a second
     * (stale) timer firing would be counted again.
     */
    const timed = (tag: string, delay = 1000) =>
      setup({
        types: {} as { context: TimedContext; events: { type: 'arm' } | { type: 'noop' } },
      }).createMachine({
        id: 'timed',
        context: { fired: [] },
        initial: 'idle',
        states: {
          idle: { on: { arm: 'waiting' } },
          waiting: {
            after: { [delay]: { actions: assign({ fired: ({ context }) => [...context.fired, tag] }) } },
            on: { noop: {} },
          },
        },
      });
    const fired = (h: ActorHost) => (h.context as TimedContext).fired;

    it('re-arms a pending after timer with the time it had left, and it fires once, in v2', () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 't', logic: timed('v1'), version: '1' });
      host.send({ type: 'arm' });
      vi.advanceTimersByTime(400);
      expect(vi.getTimerCount()).toBe(1);

      host.swap(timed('v2'), '2');
      expect(vi.getTimerCount()).toBe(1); // the old timer is gone, one new one

      vi.advanceTimersByTime(599);
      expect(fired(host)).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired(host)).toEqual(['v2']);
      vi.advanceTimersByTime(10_000);
      expect(fired(host)).toEqual(['v2']);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('re-arms with the remaining time measured at commit, for a suspended actor', async () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 't2', logic: timed('v1'), version: '1' });
      host.send({ type: 'arm' });
      vi.advanceTimersByTime(300);
      expect(host.suspend()).toBeUndefined();
      const prepared = host.prepareSwap(timed('v2'), '2');
      vi.advanceTimersByTime(200); // the old timer keeps running until the commit
      prepared.commit();
      host.resume();
      vi.advanceTimersByTime(499);
      expect(fired(host)).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired(host)).toEqual(['v2']);
      vi.advanceTimersByTime(5000);
      expect(fired(host)).toEqual(['v2']);
    });

    it('a failed swap keeps the original timer', () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 't3', logic: timed('v1'), version: '1' });
      host.send({ type: 'arm' });
      vi.advanceTimersByTime(400);
      expect(() =>
        host.swap(timed('v2'), '2', () => {
          throw new Error('no');
        }),
      ).toThrowError(expect.objectContaining({ code: 'SWAP_FAILED' }));
      vi.advanceTimersByTime(600);
      expect(fired(host)).toEqual(['v1']);
      vi.advanceTimersByTime(5000);
      expect(fired(host)).toEqual(['v1']);
    });

    it('a host restored from a persisted snapshot re-arms the after timer of its state', () => {
      vi.useFakeTimers();
      const first = new ActorHost({ id: 't4', logic: timed('v1'), version: '1' });
      first.send({ type: 'arm' });
      const stored = JSON.parse(JSON.stringify(first.persist())) as VersionedSnapshot;
      first.kill();
      const again = new ActorHost({ id: 't4', logic: timed('v1'), version: '1', snapshot: stored.snapshot });
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1000);
      expect(fired(again)).toEqual(['v1']);
    });
  });
});
