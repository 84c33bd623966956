import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, emit, setup } from 'xstate';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { bulkResume, bulkSuspend } from '../../src/actors/bulk-suspend.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One macrotask turn: lets pending promise chains run (not a timing-based wait). */
const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A counter whose `hang` message runs an async effect that waits on a gate, so a test decides
 * when the message in flight ends.
 */
function counterLogic(gates: Map<string, Deferred>) {
  return setup({
    types: {} as {
      context: { id: string; n: number };
      input: { id: string };
      events: { type: 'inc' } | { type: 'hang' } | { type: 'get' };
    },
    actions: {
      hang: ({ context }) => {
        let g = gates.get(context.id);
        if (!g) {
          g = deferred();
          gates.set(context.id, g);
        }
        return g.promise;
      },
    },
  }).createMachine({
    context: ({ input }) => ({ id: input.id, n: 0 }),
    on: {
      inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
      hang: { actions: 'hang' },
      get: { actions: emit(({ context }) => ({ type: 'reply', n: context.n })) },
    },
  });
}

function makeActors(
  n: number,
  prefix: string,
  gates: Map<string, Deferred>,
  suspendable = true,
): ActorHost[] {
  const logic = counterLogic(gates);
  return Array.from(
    { length: n },
    (_, i) =>
      new ActorHost({
        id: `${prefix}${i}`,
        logic,
        version: '1',
        input: { id: `${prefix}${i}` },
        suspendable,
      }),
  );
}

const count = (a: ActorHost) => (a.context as { n: number }).n;

describe('bulkSuspend', () => {
  let gates = new Map<string, Deferred>();
  afterEach(() => {
    // never leave an effect hanging
    for (const g of gates.values()) g.resolve();
    gates = new Map();
  });

  it('ok for 10,000 idle actors: every one suspended, then resume delivers what queued', async () => {
    const actors = makeActors(10_000, 'idle-', gates);
    const result = await bulkSuspend(actors, 1000);
    expect(result).toEqual({ result: 'ok', count: 10_000 });
    expect(actors.every((a) => a.status === 'suspended')).toBe(true);

    for (const a of actors) {
      a.send({ type: 'inc' });
      a.send({ type: 'inc' });
    }
    expect(actors.every((a) => a.queued === 2 && count(a) === 0)).toBe(true);

    expect(bulkResume(actors)).toBe(10_000);
    expect(actors.every((a) => a.status === 'running')).toBe(true);
    await Promise.all(actors.map((a) => a.whenIdle()));
    expect(actors.every((a) => a.queued === 0 && count(a) === 2)).toBe(true);
  });

  it('ok when the messages in flight finish before the deadline; they finish, the next ones wait', async () => {
    const actors = makeActors(20, 'busy-', gates);
    for (const a of actors) {
      a.send({ type: 'hang' });
      a.send({ type: 'inc' });
    }
    const pending = bulkSuspend(actors, 5000);
    await turn();
    for (const g of gates.values()) g.resolve();
    expect(await pending).toEqual({ result: 'ok', count: 20 });
    expect(actors.every((a) => a.status === 'suspended' && a.queued === 1 && count(a) === 0)).toBe(true);
    bulkResume(actors);
    const replies = await Promise.all(actors.map((a) => a.ask({ type: 'get' })));
    expect(replies).toEqual(actors.map(() => ({ n: 1 })));
  });

  it('errors for actors hanging past one shared deadline, with count and each {id, reason}', async () => {
    const timeoutMs = 100;
    const idle = makeActors(50, 'ok-', gates);
    const hanging = makeActors(50, 'hang-', gates);
    for (const a of hanging) {
      a.send({ type: 'hang' });
      a.send({ type: 'inc' });
    }
    await turn();
    expect(gates.size).toBe(50); // every hanging actor is inside its effect

    const mixed = idle.flatMap((a, i) => [a, hanging[i] as ActorHost]);
    const started = performance.now();
    const result = await bulkSuspend(mixed, timeoutMs);
    const elapsed = performance.now() - started;

    // one deadline for the whole set, not one per actor
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(elapsed).toBeLessThan(3 * timeoutMs);

    expect(result.result).toBe('errors');
    if (result.result !== 'errors') return;
    expect(result.count).toBe(50);
    expect(result.failures).toHaveLength(50);
    expect(result.failures.map((f) => f.id).sort()).toEqual(hanging.map((a) => a.id).sort());
    for (const f of result.failures) expect(f.reason).toMatch(/did not finish within 100 ms/);

    // every actor is flagged: the idle ones are suspended, the hanging ones suspend when done
    expect(mixed.every((a) => a.status === 'suspended')).toBe(true);
    for (const a of idle) a.send({ type: 'inc' });
    expect(idle.every((a) => count(a) === 0 && a.queued === 1)).toBe(true);

    // let the hanging effects end: they stop there, the queued inc waits for the resume
    for (const g of gates.values()) g.resolve();
    await Promise.all(hanging.map((a) => a.whenIdle()));
    expect(hanging.every((a) => a.queued === 1 && count(a) === 0)).toBe(true);

    expect(bulkResume(mixed)).toBe(100);
    const replies = await Promise.all(mixed.map((a) => a.ask({ type: 'get' })));
    expect(replies).toEqual(mixed.map(() => ({ n: 1 })));
  });

  it('not_supported when the set holds non-suspendable actors: those ids, and nothing is suspended', async () => {
    const normal = makeActors(10, 'n-', gates);
    const pinned = makeActors(2, 'pinned-', gates, false);
    const set = [normal[0], pinned[0], ...normal.slice(1), pinned[1]] as ActorHost[];
    const result = await bulkSuspend(set, 100);
    expect(result).toEqual({ result: 'not_supported', ids: ['pinned-0', 'pinned-1'] });
    expect(set.every((a) => a.status === 'running')).toBe(true);
    const replies = await Promise.all(normal.map((a) => a.ask({ type: 'get' })));
    expect(replies).toHaveLength(10);
  });

  it('reports ended actors as failures and suspends the rest', async () => {
    const actors = makeActors(5, 'e-', gates);
    actors[1]?.kill();
    const result = await bulkSuspend(actors, 100);
    expect(result).toEqual({
      result: 'errors',
      count: 1,
      failures: [{ id: 'e-1', reason: 'actor is stopped' }],
    });
    expect(actors.filter((a) => a.status === 'suspended')).toHaveLength(4);
  });

  it('accepts any iterable, e.g. a Map of actors, and an empty set is ok', async () => {
    const actors = makeActors(3, 'm-', gates);
    const byId = new Map(actors.map((a) => [a.id, a]));
    expect(await bulkSuspend(byId.values(), 100)).toEqual({ result: 'ok', count: 3 });
    expect(bulkResume(byId.values())).toBe(3);
    expect(await bulkSuspend([], 100)).toEqual({ result: 'ok', count: 0 });
  });
});
