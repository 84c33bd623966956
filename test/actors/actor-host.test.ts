import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createMachine, type EventObject, emit, fromTransition, setup } from 'xstate';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { RelupError } from '../../src/errors.ts';

/** An event with a payload, typed for `send`/`ask` (which take any EventObject). */
const ev = <T extends EventObject>(e: T): T => e;

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One macrotask turn: lets every pending promise chain run (not a timing-based wait). */
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Settles a promise into a value or the error's code, for assertions on many asks. */
function outcome(p: Promise<unknown>): Promise<{ ok: unknown } | { code: string }> {
  return p.then(
    (ok) => ({ ok }),
    (err: RelupError) => ({ code: err.code }),
  );
}

type WorkEvent = { type: 'work'; id: number };

/** A logic whose `work` effect is async: it waits for a gate the test opens, logging start and end. */
function gatedWorker() {
  const log: string[] = [];
  const gates = new Map<number, Deferred>();
  const gate = (id: number) => {
    let g = gates.get(id);
    if (!g) {
      g = deferred();
      gates.set(id, g);
    }
    return g;
  };
  const logic = setup({
    types: {} as { events: WorkEvent | { type: 'ping' } },
    actions: {
      work: ({ event }) => {
        const id = (event as WorkEvent).id;
        log.push(`start ${id}`);
        return gate(id).promise.then(() => {
          log.push(`end ${id}`);
        });
      },
    },
  }).createMachine({
    on: {
      work: { actions: ['work', emit(({ event }) => ({ type: 'reply', done: (event as WorkEvent).id }))] },
      ping: { actions: emit(() => ({ type: 'reply', pong: true })) },
    },
  });
  return { logic, log, gate };
}

describe('ActorHost', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('processes one message at a time even when an effect is async', async () => {
    const { logic, log, gate } = gatedWorker();
    const host = new ActorHost({ id: 'w', logic, version: '1' });
    const asks = [1, 2, 3].map((id) => host.ask(ev({ type: 'work', id })));
    await turn();
    expect(log).toEqual(['start 1']);
    expect(host.queued).toBe(2);

    // release out of order: 3 then 2 must still wait for 1
    gate(3).resolve();
    gate(2).resolve();
    await turn();
    expect(log).toEqual(['start 1']);

    gate(1).resolve();
    const replies = await Promise.all(asks);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    // the reply effect runs after the async effect of the same message, in order
    expect(replies).toEqual([{ done: 1 }, { done: 2 }, { done: 3 }]);
    expect(host.queued).toBe(0);
    expect(host.status).toBe('running');
  });

  it('keeps order across many messages whose effects are a mix of sync and async', async () => {
    const seen: number[] = [];
    const logic = setup({
      types: {} as { events: { type: 'n'; n: number } },
      actions: {
        record: ({ event }) => {
          if (event.n % 7 === 0) return turn().then(() => void seen.push(event.n));
          seen.push(event.n);
          return undefined;
        },
      },
    }).createMachine({ on: { n: { actions: 'record' } } });
    const host = new ActorHost({ id: 'mix', logic, version: '1' });
    const expected: number[] = [];
    for (let n = 0; n < 200; n++) {
      expected.push(n);
      host.send(ev({ type: 'n', n }));
    }
    await host.ask(ev({ type: 'n', n: 200 }));
    expected.push(200);
    expect(seen).toEqual(expected);
  });

  it('ask() resolves with the emitted reply body, without its type', async () => {
    const logic = setup({
      types: {} as { context: { sum: number }; events: { type: 'add'; n: number } | { type: 'noop' } },
    }).createMachine({
      context: { sum: 0 },
      on: {
        add: {
          actions: [
            assign({ sum: ({ context, event }) => context.sum + event.n }),
            emit(({ context }) => ({ type: 'reply', sum: context.sum, at: 'add' })),
          ],
        },
        noop: {},
      },
    });
    const host = new ActorHost({ id: 'sum', logic, version: '1' });
    expect(await host.ask(ev({ type: 'add', n: 40 }))).toEqual({ sum: 40, at: 'add' });
    expect(await host.ask(ev({ type: 'add', n: 2 }))).toEqual({ sum: 42, at: 'add' });
    // a message the logic does not answer still settles the request, with undefined
    expect(await host.ask({ type: 'noop' })).toBeUndefined();
    expect(host.context).toEqual({ sum: 42 });
  });

  it('sends emitted events other than reply to onEmit, with the actor and envelope', async () => {
    const got: { emitted: EventObject; actorId: string; request: unknown }[] = [];
    const logic = createMachine({
      on: {
        shout: {
          actions: [
            emit(() => ({ type: 'broadcast', text: 'hi' })),
            emit(() => ({ type: 'reply', ok: true })),
          ],
        },
      },
    });
    const host = new ActorHost({
      id: 'emitter',
      logic,
      version: '1',
      onEmit: (emitted, ctx) => {
        got.push({ emitted, actorId: ctx.actor.id, request: ctx.envelope?.event });
      },
    });
    expect(await host.ask({ type: 'shout' })).toEqual({ ok: true });
    expect(got).toEqual([
      { emitted: { type: 'broadcast', text: 'hi' }, actorId: 'emitter', request: { type: 'shout' } },
    ]);
  });

  it('awaits a promise returned by onEmit before the next message', async () => {
    const order: string[] = [];
    const release = deferred();
    const logic = createMachine({
      on: {
        a: { actions: emit(() => ({ type: 'out', n: 1 })) },
        b: { actions: () => void order.push('b handled') },
      },
    });
    const host = new ActorHost({
      id: 'e',
      logic,
      version: '1',
      onEmit: () => {
        order.push('emit start');
        return release.promise.then(() => void order.push('emit end'));
      },
    });
    host.send({ type: 'a' });
    const b = host.ask({ type: 'b' });
    await turn();
    expect(order).toEqual(['emit start']);
    release.resolve();
    await b;
    expect(order).toEqual(['emit start', 'emit end', 'b handled']);
  });

  describe('failure', () => {
    it('an action that throws fails the actor: asks reject ACTOR_FAILED, exited gives the error', async () => {
      const boom = new Error('boom in action');
      const logic = setup({
        actions: {
          explode: () => {
            throw boom;
          },
        },
      }).createMachine({
        on: { bad: { actions: 'explode' }, ok: { actions: emit(() => ({ type: 'reply', ok: 1 })) } },
      });
      const host = new ActorHost({ id: 'a1', logic, version: '1' });
      // queue the failing ask and two behind it, then let them run
      host.suspend();
      const bad = outcome(host.ask({ type: 'bad' }));
      const behind = [outcome(host.ask({ type: 'ok' })), outcome(host.ask({ type: 'ok' }))];
      host.resume();
      expect(await bad).toEqual({ code: 'ACTOR_FAILED' });
      expect(await Promise.all(behind)).toEqual([{ code: 'ACTOR_FAILED' }, { code: 'ACTOR_FAILED' }]);
      expect(host.status).toBe('failed');
      expect(host.queued).toBe(0);
      expect(await host.exited).toEqual({ error: boom });
      expect(await outcome(host.ask({ type: 'ok' }))).toEqual({ code: 'ACTOR_STOPPED' });
      // send is fire-and-forget: it must not throw on a dead actor
      expect(() => host.send({ type: 'ok' })).not.toThrow();
    });

    it('a send whose action throws does not throw into the sender; the actor fails', async () => {
      const boom = new Error('thrown at the sender?');
      const logic = createMachine({
        on: {
          bad: {
            actions: () => {
              throw boom;
            },
          },
        },
      });
      const host = new ActorHost({ id: 'a3', logic, version: '1' });
      expect(() => host.send({ type: 'bad' })).not.toThrow();
      expect(host.status).toBe('failed');
      expect(await host.exited).toEqual({ error: boom });
    });

    it('queued asks behind a failing message reject with ACTOR_FAILED', async () => {
      const gate = deferred();
      const boom = new Error('async boom');
      const logic = setup({
        actions: {
          wait: () => gate.promise,
        },
      }).createMachine({
        on: {
          wait: { actions: 'wait' },
          ok: { actions: emit(() => ({ type: 'reply', ok: 1 })) },
        },
      });
      const host = new ActorHost({ id: 'a2', logic, version: '1' });
      const first = outcome(host.ask({ type: 'wait' }));
      const queued = [outcome(host.ask({ type: 'ok' })), outcome(host.ask({ type: 'ok' }))];
      gate.reject(boom);
      expect(await first).toEqual({ code: 'ACTOR_FAILED' });
      expect(await Promise.all(queued)).toEqual([{ code: 'ACTOR_FAILED' }, { code: 'ACTOR_FAILED' }]);
      expect(await host.exited).toEqual({ error: boom });
      expect(host.status).toBe('failed');
      expect(await outcome(host.ask({ type: 'ok' }))).toEqual({ code: 'ACTOR_STOPPED' });
    });

    it('a guard that throws fails the actor', async () => {
      const boom = new Error('boom in guard');
      const logic = setup({
        guards: {
          broken: () => {
            throw boom;
          },
        },
      }).createMachine({
        initial: 'a',
        states: { a: { on: { go: { guard: 'broken', target: 'b' } } }, b: {} },
      });
      const host = new ActorHost({ id: 'g', logic, version: '1' });
      host.suspend();
      const r = outcome(host.ask({ type: 'go' }));
      const after = outcome(host.ask({ type: 'go' }));
      host.resume();
      expect(await r).toEqual({ code: 'ACTOR_FAILED' });
      expect(await after).toEqual({ code: 'ACTOR_FAILED' });
      const reason = await host.exited;
      expect(reason).toEqual({
        error: expect.objectContaining({ message: expect.stringContaining('boom in guard') }),
      });
      expect(host.status).toBe('failed');
      expect(await outcome(host.ask({ type: 'go' }))).toEqual({ code: 'ACTOR_STOPPED' });
    });

    it('an assign that throws fails the actor and keeps the last good state', async () => {
      const logic = setup({ types: {} as { context: { n: number } } }).createMachine({
        context: { n: 1 },
        on: {
          inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
          bad: {
            actions: assign({
              n: () => {
                throw new Error('bad assign');
              },
            }),
          },
        },
      });
      const host = new ActorHost({ id: 'as', logic, version: '1' });
      await host.ask({ type: 'inc' });
      expect(await outcome(host.ask({ type: 'bad' }))).toEqual({ code: 'ACTOR_FAILED' });
      expect(host.context).toEqual({ n: 2 });
      expect(await host.exited).toHaveProperty('error');
    });
  });

  it('a machine reaching a final state exits normal; the last ask is answered', async () => {
    const logic = createMachine({
      initial: 'open',
      states: {
        open: { on: { close: { target: 'closed', actions: emit({ type: 'reply', closing: true }) } } },
        closed: { type: 'final' },
      },
    });
    const host = new ActorHost({ id: 'f', logic, version: '1' });
    const last = host.ask({ type: 'close' });
    const late = outcome(host.ask({ type: 'close' }));
    expect(await last).toEqual({ closing: true });
    expect(await host.exited).toBe('normal');
    expect(host.status).toBe('stopped');
    expect(await late).toEqual({ code: 'ACTOR_STOPPED' });
    expect(await outcome(host.ask({ type: 'close' }))).toEqual({ code: 'ACTOR_STOPPED' });
  });

  it('runs fromTransition logic: state moves, asks settle, emitted replies answer', async () => {
    type Ev = { type: 'inc'; by: number } | { type: 'get' };
    const logic = fromTransition(
      (state: { count: number }, event: Ev, scope) => {
        if (event.type === 'inc') return { count: state.count + event.by };
        scope.emit(ev({ type: 'reply', count: state.count }));
        return state;
      },
      { count: 10 },
    );
    const host = new ActorHost({ id: 't', logic, version: '1' });
    host.send(ev({ type: 'inc', by: 5 }));
    expect(await host.ask(ev({ type: 'inc', by: 1 }))).toBeUndefined();
    expect(host.context).toEqual({ count: 16 });
    expect(await host.ask({ type: 'get' })).toEqual({ count: 16 });
  });

  it('starts fromTransition logic from its input', async () => {
    const logic = fromTransition(
      (state: { count: number }, event: { type: 'inc' }) =>
        event.type === 'inc' ? { count: state.count + 1 } : state,
      ({ input }: { input: { start: number } }) => ({ count: input.start }),
    );
    const host = new ActorHost({ id: 't2', logic, version: '1', input: { start: 100 } });
    await host.ask({ type: 'inc' });
    expect(host.context).toEqual({ count: 101 });
  });

  describe('delayed transitions', () => {
    const timed = () =>
      setup({ types: {} as { context: { fired: number } } }).createMachine({
        id: 'timed',
        context: { fired: 0 },
        initial: 'idle',
        states: {
          idle: { on: { arm: 'waiting' } },
          waiting: {
            after: {
              1000: { target: 'expired', actions: assign({ fired: ({ context }) => context.fired + 1 }) },
            },
            on: { disarm: 'idle' },
          },
          expired: { on: { arm: 'waiting' } },
        },
      });
    const value = (h: ActorHost) => (h.snapshot as unknown as { value: unknown }).value;

    it('fires an after transition at its delay (fake timers)', async () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 'd1', logic: timed(), version: '1' });
      host.send({ type: 'arm' });
      expect(value(host)).toBe('waiting');
      vi.advanceTimersByTime(999);
      expect(value(host)).toBe('waiting');
      vi.advanceTimersByTime(1);
      expect(value(host)).toBe('expired');
      expect(host.context).toEqual({ fired: 1 });
      vi.advanceTimersByTime(10_000);
      expect(host.context).toEqual({ fired: 1 });
      expect(vi.getTimerCount()).toBe(0);
    });

    it('cancels the timer when the state is left before the delay', async () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 'd2', logic: timed(), version: '1' });
      host.send({ type: 'arm' });
      vi.advanceTimersByTime(500);
      host.send({ type: 'disarm' });
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(5000);
      expect(value(host)).toBe('idle');
      expect(host.context).toEqual({ fired: 0 });
    });

    it('fires an after transition with a short real delay', async () => {
      const entered = deferred();
      const logic = createMachine({
        initial: 'a',
        states: { a: { after: { 20: 'b' } }, b: { entry: () => entered.resolve() } },
      });
      const host = new ActorHost({ id: 'd3', logic, version: '1' });
      await entered.promise;
      expect(value(host)).toBe('b');
    });

    it('kill clears pending timers', async () => {
      vi.useFakeTimers();
      const host = new ActorHost({ id: 'd4', logic: timed(), version: '1' });
      host.send({ type: 'arm' });
      expect(vi.getTimerCount()).toBe(1);
      host.kill();
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('stop and kill', () => {
    it('graceful stop processes the queue, then exits shutdown', async () => {
      const { logic, log, gate } = gatedWorker();
      const host = new ActorHost({ id: 's', logic, version: '1' });
      const asks = [1, 2, 3].map((id) => host.ask(ev({ type: 'work', id })));
      const stopped = host.stop();
      for (const id of [1, 2, 3]) gate(id).resolve();
      await stopped;
      expect(await Promise.all(asks)).toEqual([{ done: 1 }, { done: 2 }, { done: 3 }]);
      expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
      expect(await host.exited).toBe('shutdown');
      expect(host.status).toBe('stopped');
      expect(await outcome(host.ask({ type: 'ping' }))).toEqual({ code: 'ACTOR_STOPPED' });
    });

    it('stop of an idle actor ends at once; a second stop is a no-op', async () => {
      const { logic } = gatedWorker();
      const host = new ActorHost({ id: 's2', logic, version: '1' });
      await host.stop();
      await host.stop();
      expect(host.status).toBe('stopped');
      expect(await host.exited).toBe('shutdown');
    });

    it('a stop whose queue reaches a final state keeps the exit reason normal', async () => {
      const gate = deferred();
      const logic = setup({ actions: { wait: () => gate.promise } }).createMachine({
        initial: 'open',
        states: { open: { on: { wait: { actions: 'wait' }, close: 'closed' } }, closed: { type: 'final' } },
      });
      const host = new ActorHost({ id: 's3', logic, version: '1' });
      host.send({ type: 'wait' });
      host.send({ type: 'close' });
      const stopped = host.stop();
      gate.resolve();
      await stopped;
      expect(host.status).toBe('stopped');
      expect(await host.exited).toBe('normal');
    });

    it('a stop whose queue fails leaves the actor failed', async () => {
      const gate = deferred();
      const boom = new Error('fails during stop');
      const logic = setup({
        actions: {
          wait: () => gate.promise,
          explode: () => {
            throw boom;
          },
        },
      }).createMachine({ on: { wait: { actions: 'wait' }, bad: { actions: 'explode' } } });
      const host = new ActorHost({ id: 's4', logic, version: '1' });
      host.send({ type: 'wait' });
      const bad = outcome(host.ask({ type: 'bad' }));
      const stopped = host.stop();
      gate.resolve();
      await stopped;
      expect(await bad).toEqual({ code: 'ACTOR_FAILED' });
      expect(host.status).toBe('failed');
      expect(await host.exited).toEqual({ error: boom });
    });

    it('a stop that finds the actor suspended part-way ends it and rejects what is still queued', async () => {
      const { logic, log, gate } = gatedWorker();
      const host = new ActorHost({ id: 's5', logic, version: '1' });
      const first = host.ask(ev({ type: 'work', id: 1 }));
      const second = outcome(host.ask(ev({ type: 'work', id: 2 })));
      const stopped = host.stop();
      const suspended = host.suspend();
      expect(suspended).toBeInstanceOf(Promise);
      gate(1).resolve();
      await stopped;
      expect(await first).toEqual({ done: 1 });
      expect(await second).toEqual({ code: 'ACTOR_STOPPED' });
      expect(log).toEqual(['start 1', 'end 1']);
      expect(host.status).toBe('stopped');
      expect(await host.exited).toBe('shutdown');
    });

    it('kill rejects queued asks with ACTOR_STOPPED and exits shutdown', async () => {
      const { logic, log, gate } = gatedWorker();
      const host = new ActorHost({ id: 'k', logic, version: '1' });
      const first = outcome(host.ask(ev({ type: 'work', id: 1 })));
      const queued = [2, 3].map((id) => outcome(host.ask(ev({ type: 'work', id }))));
      await turn();
      host.kill();
      expect(host.status).toBe('stopped');
      expect(host.queued).toBe(0);
      expect(await Promise.all(queued)).toEqual([{ code: 'ACTOR_STOPPED' }, { code: 'ACTOR_STOPPED' }]);
      expect(await host.exited).toBe('shutdown');
      // the message in flight may finish, but nothing queued behind it runs
      gate(1).resolve();
      await first;
      expect(log).toEqual(['start 1', 'end 1']);
      expect(host.status).toBe('stopped');
      expect(await host.exited).toBe('shutdown');
    });

    it('an in-flight effect that rejects after a kill does not turn the stopped actor into a failed one', async () => {
      const { logic, gate } = gatedWorker();
      const host = new ActorHost({ id: 'k2', logic, version: '1' });
      const first = outcome(host.ask(ev({ type: 'work', id: 1 })));
      await turn();
      host.kill();
      gate(1).reject(new Error('late failure'));
      await first;
      expect(host.status).toBe('stopped');
      // a late watcher sees the reason the actor really ended with
      expect(await host.exited).toBe('shutdown');
    });

    it('exited resolves for a watcher that subscribes after the end', async () => {
      const { logic } = gatedWorker();
      const host = new ActorHost({ id: 'k3', logic, version: '1' });
      host.kill();
      host.kill();
      expect(await host.exited).toBe('shutdown');
    });
  });

  it('an async entry effect of the initial state runs before the first message', async () => {
    const order: string[] = [];
    const gate = deferred();
    const logic = createMachine({
      entry: () => {
        order.push('entry start');
        return gate.promise.then(() => void order.push('entry end'));
      },
      on: { hello: { actions: [() => void order.push('hello'), emit(() => ({ type: 'reply', hi: true }))] } },
    });
    const host = new ActorHost({ id: 'init', logic, version: '1' });
    const r = host.ask({ type: 'hello' });
    await turn();
    expect(order).toEqual(['entry start']);
    gate.resolve();
    expect(await r).toEqual({ hi: true });
    expect(order).toEqual(['entry start', 'entry end', 'hello']);
  });

  it('an async entry effect that rejects fails the actor instead of leaking an unhandled rejection', async () => {
    const boom = new Error('entry failed');
    const logic = createMachine({ entry: () => Promise.reject(boom) });
    const host = new ActorHost({ id: 'init2', logic, version: '1' });
    expect(await host.exited).toEqual({ error: boom });
    expect(host.status).toBe('failed');
  });
});

describe('ActorHost suspend and resume', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  type Msg = { type: 'msg'; p: number; seq: number };

  /** Records every delivered message; every `asyncEvery`-th one has an async effect. */
  function recorder(asyncEvery = 0) {
    const received: string[] = [];
    const logic = setup({
      types: {} as { events: Msg | { type: 'flush' } },
      actions: {
        record: ({ event }) => {
          const m = event as Msg;
          const key = `${m.p}:${m.seq}`;
          if (asyncEvery > 0 && m.seq % asyncEvery === 0)
            return Promise.resolve().then(() => void received.push(key));
          received.push(key);
          return undefined;
        },
      },
    }).createMachine({
      on: { msg: { actions: 'record' }, flush: { actions: emit(() => ({ type: 'reply', flushed: true })) } },
    });
    return { logic, received };
  }

  /** Several producers sending concurrently, interleaved through microtasks and macrotasks. */
  async function produce(host: ActorHost, producers: number, perProducer: number): Promise<string[]> {
    const sent: string[] = [];
    const producer = async (p: number) => {
      for (let seq = 0; seq < perProducer; seq++) {
        host.send(ev({ type: 'msg', p, seq }));
        sent.push(`${p}:${seq}`);
        if (seq % (p + 2) === 0) await turn();
        else if (seq % 3 === 0) await Promise.resolve();
      }
    };
    await Promise.all(Array.from({ length: producers }, (_, p) => producer(p)));
    return sent;
  }

  function checkPerProducer(received: string[], producers: number, perProducer: number): void {
    expect(received).toHaveLength(producers * perProducer);
    expect(new Set(received).size).toBe(producers * perProducer);
    const byProducer = new Map<number, number[]>();
    for (const key of received) {
      const [p, seq] = key.split(':').map(Number) as [number, number];
      const list = byProducer.get(p) ?? [];
      list.push(seq);
      byProducer.set(p, list);
    }
    expect(byProducer.size).toBe(producers);
    for (const seqs of byProducer.values())
      expect(seqs).toEqual(Array.from({ length: perProducer }, (_, i) => i));
  }

  it('queues 10,000 sends from concurrent producers and delivers them in exact order on resume', async () => {
    const { logic, received } = recorder();
    const host = new ActorHost({ id: 'q', logic, version: '1' });
    expect(host.suspend()).toBeUndefined(); // idle: nothing to wait for
    expect(host.status).toBe('suspended');

    const sent = await produce(host, 8, 1250);
    // the producers really interleaved
    let switches = 0;
    for (let i = 1; i < sent.length; i++)
      if (sent[i]?.split(':')[0] !== sent[i - 1]?.split(':')[0]) switches++;
    expect(switches).toBeGreaterThan(100);

    expect(received).toHaveLength(0);
    expect(host.queued).toBe(10_000);

    host.resume();
    expect(host.status).toBe('running');
    expect(await host.ask({ type: 'flush' })).toEqual({ flushed: true });
    expect(received).toEqual(sent); // arrival order, nothing lost, nothing duplicated
    checkPerProducer(received, 8, 1250);
    expect(host.queued).toBe(0);
  });

  it('keeps per-producer order when delivery after resume hits async effects and producers keep sending', async () => {
    const { logic, received } = recorder(97);
    const host = new ActorHost({ id: 'q2', logic, version: '1' });
    host.suspend();
    const first = produce(host, 5, 1000);
    // resume while the producers are still running: new sends queue behind the backlog
    await turn();
    host.resume();
    const sent = await first;
    await host.ask({ type: 'flush' });
    expect(received).toEqual(sent);
    checkPerProducer(received, 5, 1000);
  });

  it('suspend() during an async effect resolves only after it finishes, and the next message waits', async () => {
    const { logic, log, gate } = gatedWorker();
    const host = new ActorHost({ id: 'sp', logic, version: '1' });
    const first = host.ask(ev({ type: 'work', id: 1 }));
    const second = host.ask(ev({ type: 'work', id: 2 }));
    await turn();
    expect(log).toEqual(['start 1']);

    const suspended = host.suspend();
    expect(suspended).toBeInstanceOf(Promise);
    expect(host.status).toBe('suspended');
    let done = false;
    void suspended?.then(() => {
      done = true;
    });
    await turn();
    expect(done).toBe(false);

    gate(2).resolve(); // ready, but must not start while suspended
    gate(1).resolve();
    await suspended;
    expect(await first).toEqual({ done: 1 });
    expect(log).toEqual(['start 1', 'end 1']);
    expect(host.queued).toBe(1);
    await turn();
    expect(log).toEqual(['start 1', 'end 1']);
    // suspending again while suspended and idle has nothing to wait for
    expect(host.suspend()).toBeUndefined();

    host.resume();
    expect(await second).toEqual({ done: 2 });
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(host.status).toBe('running');
  });

  it('resume() while the effect in flight has not finished continues the queue when it does', async () => {
    const { logic, log, gate } = gatedWorker();
    const host = new ActorHost({ id: 'sp2', logic, version: '1' });
    host.send(ev({ type: 'work', id: 1 }));
    const second = host.ask(ev({ type: 'work', id: 2 }));
    const suspended = host.suspend();
    host.resume();
    gate(1).resolve();
    gate(2).resolve();
    await suspended;
    expect(await second).toEqual({ done: 2 });
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('whenIdle() waits for the message in flight', async () => {
    const { logic, log, gate } = gatedWorker();
    const host = new ActorHost({ id: 'idle', logic, version: '1' });
    await host.whenIdle();
    host.send(ev({ type: 'work', id: 1 }));
    const idle = host.whenIdle();
    gate(1).resolve();
    await idle;
    expect(log).toEqual(['start 1', 'end 1']);
  });

  it('a timer that fires while suspended queues its event for the resume', () => {
    vi.useFakeTimers();
    const logic = createMachine({
      initial: 'a',
      states: { a: { on: { arm: 'waiting' } }, waiting: { after: { 100: 'done' } }, done: {} },
    });
    const host = new ActorHost({ id: 'ts', logic, version: '1' });
    const value = () => (host.snapshot as unknown as { value: unknown }).value;
    host.send({ type: 'arm' });
    host.suspend();
    vi.advanceTimersByTime(100);
    expect(value()).toBe('waiting');
    expect(host.queued).toBe(1);
    host.resume();
    expect(value()).toBe('done');
  });

  it('suspend and resume do nothing to an ended actor', async () => {
    const { logic } = gatedWorker();
    const host = new ActorHost({ id: 'end', logic, version: '1' });
    host.kill();
    expect(host.suspend()).toBeUndefined();
    expect(host.status).toBe('stopped');
    host.resume();
    expect(host.status).toBe('stopped');
    expect(await outcome(host.ask({ type: 'ping' }))).toEqual({ code: 'ACTOR_STOPPED' });
  });

  it('a graceful stop of a suspended actor ends it and rejects what is queued', async () => {
    const { logic } = gatedWorker();
    const host = new ActorHost({ id: 'stopsusp', logic, version: '1' });
    host.suspend();
    const queued = outcome(host.ask({ type: 'ping' }));
    await host.stop();
    expect(await queued).toEqual({ code: 'ACTOR_STOPPED' });
    expect(await host.exited).toBe('shutdown');
  });
});
