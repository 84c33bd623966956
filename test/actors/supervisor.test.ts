import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Child, ExitReason } from '../../src/actors/child.ts';
import type { ChildSpec } from '../../src/actors/child-spec.ts';
import { RestartIntensity } from '../../src/actors/restart-intensity.ts';
import { type Supervisor, startSupervisor } from '../../src/actors/supervisor.ts';
import type { SupervisorEvent } from '../../src/actors/supervisor-events.ts';
import type { SupervisorLogger } from '../../src/actors/supervisor-options.ts';
import { RelupError } from '../../src/errors.ts';

/** A child whose exit the test controls; `stop` exits it with 'shutdown' unless told to hang. */
interface TestChild extends Child {
  crash(err?: unknown): void;
  exitNormally(): void;
}

/** Builds test children per id and records starts, stops, kills and hooks in one ordered log. */
class Fleet {
  readonly log: string[] = [];
  private readonly latest = new Map<string, TestChild>();

  /** The child most recently started for `id`. */
  current(id: string): TestChild {
    const child = this.latest.get(id);
    if (!child) throw new Error(`no child ${id} started`);
    return child;
  }

  /** A spec whose children hang on `stop()` when `hang` is set, with hooks writing to the log. */
  spec(id: string, extra: Partial<ChildSpec> & { hang?: boolean } = {}): ChildSpec {
    const { hang = false, ...rest } = extra;
    return {
      id,
      start: () => this.child(id, hang),
      onStart: () => {
        this.log.push(`onStart:${id}`);
      },
      onShutdown: (reason) => {
        this.log.push(`onShutdown:${id}:${typeof reason === 'string' ? reason : 'error'}`);
      },
      ...rest,
    };
  }

  /** Only the entries of the log that start with one of the prefixes. */
  only(...prefixes: string[]): string[] {
    return this.log.filter((line) => prefixes.some((p) => line.startsWith(p)));
  }

  private child(id: string, hang: boolean): TestChild {
    let resolve: (reason: ExitReason) => void = () => {};
    let done = false;
    const exited = new Promise<ExitReason>((r) => {
      resolve = r;
    });
    const exit = (reason: ExitReason) => {
      if (done) return;
      done = true;
      resolve(reason);
    };
    this.log.push(`start:${id}`);
    const child: TestChild = {
      exited,
      stop: async () => {
        this.log.push(`stop:${id}`);
        if (!hang) exit('shutdown');
      },
      kill: () => {
        this.log.push(`kill:${id}`);
        exit({ error: 'killed' });
      },
      crash: (err: unknown = new Error(`${id} crashed`)) => exit({ error: err }),
      exitNormally: () => exit('normal'),
    };
    this.latest.set(id, child);
    return child;
  }
}

/** Resolves with the first event matching `type` (and `id`); subscribe before causing it. */
function next<T extends SupervisorEvent['type']>(
  sup: Supervisor<unknown>,
  type: T,
  id?: string,
): Promise<Extract<SupervisorEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = sup.on((event) => {
      if (event.type !== type || (id !== undefined && 'id' in event && event.id !== id)) return;
      off();
      resolve(event as Extract<SupervisorEvent, { type: T }>);
    });
  });
}

/**
 * Makes child `id` exit through `act` and waits until the supervisor has handled that exit: once
 * `child_exited` is seen, any call runs after the handling (the supervisor's calls run in order).
 */
async function exitHandled(sup: Supervisor<unknown>, id: string, act: () => void): Promise<void> {
  const exited = next(sup, 'child_exited', id);
  act();
  await exited;
  await sup.deleteChild('\0barrier').catch(() => {});
}

/** Expects a promise to reject with a RelupError of `code`; returns the error. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RelupError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RelupError);
  expect((err as RelupError).code).toBe(code);
  return err as RelupError;
}

function codeOf(reason: ExitReason): string | undefined {
  return typeof reason === 'object' && reason.error instanceof RelupError ? reason.error.code : undefined;
}

const running: Supervisor<unknown>[] = [];

async function start(options: Parameters<typeof startSupervisor<unknown>>[0]): Promise<Supervisor<unknown>> {
  const sup = await startSupervisor(options);
  running.push(sup);
  return sup;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.stop()));
});

describe('strategies', () => {
  it('one_for_one restarts only the crashed child', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      children: ['a', 'b', 'c'].map((id) => fleet.spec(id)),
    });
    const restarted = next(sup, 'child_restarted', 'b');
    fleet.current('b').crash();
    await restarted;
    expect(fleet.only('start:', 'stop:', 'kill:')).toEqual(['start:a', 'start:b', 'start:c', 'start:b']);
    expect(sup.whichChildren().map((c) => [c.id, c.running, c.restarts])).toEqual([
      ['a', true, 0],
      ['b', true, 1],
      ['c', true, 0],
    ]);
  });

  it('one_for_all stops the siblings in reverse start order and restarts all in start order', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_all',
      children: ['a', 'b', 'c'].map((id) => fleet.spec(id)),
    });
    fleet.log.length = 0;
    const restarted = next(sup, 'child_restarted', 'c');
    fleet.current('b').crash();
    await restarted;
    expect(fleet.only('start:', 'stop:')).toEqual(['stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
  });

  it('rest_for_one restarts the crashed child and those started after it', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'rest_for_one',
      children: ['a', 'b', 'c', 'd'].map((id) => fleet.spec(id)),
    });
    fleet.log.length = 0;
    const restarted = next(sup, 'child_restarted', 'd');
    fleet.current('b').crash();
    await restarted;
    expect(fleet.only('start:', 'stop:')).toEqual(['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
  });

  it('rest_for_one counts dynamic children as started after the static ones', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'rest_for_one',
      intensity: 5,
      children: [fleet.spec('a'), fleet.spec('b')],
    });
    await sup.startChild(fleet.spec('x'));
    fleet.log.length = 0;
    const restarted = next(sup, 'child_restarted', 'x');
    fleet.current('a').crash();
    await restarted;
    expect(fleet.only('start:', 'stop:')).toEqual(['stop:x', 'stop:b', 'start:a', 'start:b', 'start:x']);
  });

  it('one_for_all drops a temporary sibling instead of restarting it', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_all',
      children: [fleet.spec('a'), fleet.spec('t', { restart: 'temporary' }), fleet.spec('c')],
    });
    const restarted = next(sup, 'child_restarted', 'c');
    fleet.current('a').crash();
    await restarted;
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'c']);
  });
});

describe('restart types', () => {
  it('permanent: restarted after a normal exit and after a crash', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one', intensity: 5, children: [fleet.spec('p')] });
    let restarted = next(sup, 'child_restarted', 'p');
    fleet.current('p').exitNormally();
    await restarted;
    restarted = next(sup, 'child_restarted', 'p');
    fleet.current('p').crash();
    await restarted;
    expect(fleet.only('start:')).toEqual(['start:p', 'start:p', 'start:p']);
    expect(fleet.only('onShutdown:')).toEqual(['onShutdown:p:normal', 'onShutdown:p:error']);
  });

  it('transient: restarted after a crash, not after a normal exit', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      intensity: 5,
      children: [fleet.spec('t', { restart: 'transient' })],
    });
    const restarted = next(sup, 'child_restarted', 't');
    fleet.current('t').crash();
    await restarted;
    await exitHandled(sup, 't', () => fleet.current('t').exitNormally());
    expect(fleet.only('start:')).toEqual(['start:t', 'start:t']);
    expect(sup.whichChildren()).toEqual([
      { id: 't', type: 'worker', restart: 'transient', running: false, restarts: 1 },
    ]);
  });

  it('temporary: never restarted, and its spec is dropped', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_all',
      children: [fleet.spec('a'), fleet.spec('tmp', { restart: 'temporary' })],
    });
    await exitHandled(sup, 'tmp', () => fleet.current('tmp').crash());
    expect(fleet.only('start:', 'stop:')).toEqual(['start:a', 'start:tmp']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a']);
  });
});

describe('restart intensity', () => {
  it('counts restarts in a sliding window of `period` ms', () => {
    let now = 0;
    const window = new RestartIntensity(2, 1000, () => now);
    expect(window.record()).toBe(true);
    now = 500;
    expect(window.record()).toBe(true);
    now = 900;
    expect(window.record()).toBe(false);
    now = 1600; // the restarts at 0 and 500 have left the window
    expect(window.record()).toBe(true);
  });

  it('more than `intensity` restarts within `period` stops the supervisor with SUPERVISOR_SHUTDOWN', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      intensity: 2,
      period: 2000,
      children: [fleet.spec('w')],
    });
    for (let i = 0; i < 2; i++) {
      const restarted = next(sup, 'child_restarted', 'w');
      fleet.current('w').crash();
      await restarted;
    }
    const shutdown = next(sup, 'supervisor_shutdown');
    fleet.current('w').crash();
    const { reason } = await shutdown;
    expect(codeOf(reason)).toBe('SUPERVISOR_SHUTDOWN');
    expect(await sup.exited).toBe(reason);
    expect(sup.countChildren().active).toBe(0);
    await rejectsWith(sup.startChild(fleet.spec('late')), 'ACTOR_STOPPED');
  });

  it('defaults to 1 restart in 5 s, and stops the other children on giving up', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one', children: [fleet.spec('a'), fleet.spec('b')] });
    const restarted = next(sup, 'child_restarted', 'b');
    fleet.current('b').crash();
    await restarted;
    fleet.current('b').crash();
    expect(codeOf(await sup.exited)).toBe('SUPERVISOR_SHUTDOWN');
    expect(fleet.only('stop:')).toEqual(['stop:a']);
  });

  it('a failed restart counts towards the intensity', async () => {
    const fleet = new Fleet();
    let starts = 0;
    const base = fleet.spec('w');
    const sup = await start({
      strategy: 'one_for_one',
      children: [
        {
          ...base,
          start: () => {
            if (++starts > 1) throw new Error('cannot start again');
            return base.start();
          },
        },
      ],
    });
    fleet.current('w').crash();
    expect(codeOf(await sup.exited)).toBe('SUPERVISOR_SHUTDOWN');
    expect(starts).toBe(2);
  });

  it('a restart that fails once is retried', async () => {
    const fleet = new Fleet();
    let starts = 0;
    const base = fleet.spec('w');
    const sup = await start({
      strategy: 'one_for_one',
      intensity: 3,
      children: [
        {
          ...base,
          start: () => {
            if (++starts === 2) throw new Error('flaky start');
            return base.start();
          },
        },
      ],
    });
    const restarted = next(sup, 'child_restarted', 'w');
    fleet.current('w').crash();
    await restarted;
    expect(starts).toBe(3);
    expect(sup.countChildren().active).toBe(1);
  });

  it('a parent sees a child supervisor that gave up as a crash, and restarts it', async () => {
    const fleet = new Fleet();
    const inners: Supervisor<unknown>[] = [];
    const parent = await start({
      name: 'parent',
      strategy: 'one_for_one',
      intensity: 3,
      children: [innerSpec(fleet, inners)],
    });
    const exited = next(parent, 'child_exited', 'inner');
    const restarted = next(parent, 'child_restarted', 'inner');
    await crashTwice(fleet, inners[0]!);
    expect(codeOf((await exited).reason)).toBe('SUPERVISOR_SHUTDOWN');
    await restarted;
    expect(inners).toHaveLength(2);
    expect(fleet.only('start:w')).toHaveLength(3);
    expect(parent.whichChildren()).toEqual([
      { id: 'inner', type: 'supervisor', restart: 'permanent', running: true, restarts: 1 },
    ]);
  });

  it('a parent at its own intensity escalates further', async () => {
    const fleet = new Fleet();
    const inners: Supervisor<unknown>[] = [];
    const sibling = new Fleet();
    const parent = await start({
      name: 'parent',
      strategy: 'one_for_one',
      intensity: 0,
      children: [sibling.spec('s'), innerSpec(fleet, inners)],
    });
    await crashTwice(fleet, inners[0]!);
    const reason = await parent.exited;
    expect(codeOf(reason)).toBe('SUPERVISOR_SHUTDOWN');
    expect((reason as { error: RelupError }).error.details).toMatchObject({
      supervisor: 'parent',
      intensity: 0,
    });
    expect(sibling.only('stop:')).toEqual(['stop:s']);
  });
});

/** A child spec for a supervisor `inner` over one worker `w`; every started inner lands in `inners`. */
function innerSpec(fleet: Fleet, inners: Supervisor<unknown>[]): ChildSpec {
  return {
    id: 'inner',
    type: 'supervisor',
    start: () => startSupervisor({ name: 'inner', strategy: 'one_for_one', children: [fleet.spec('w')] }),
    onStart: (child) => {
      inners.push(child as Supervisor<unknown>);
    },
  };
}

/** Crashes `w` twice: the inner supervisor (intensity 1) restarts it once, then gives up. */
async function crashTwice(fleet: Fleet, inner: Supervisor<unknown>): Promise<void> {
  const restarted = next(inner, 'child_restarted', 'w');
  fleet.current('w').crash();
  await restarted;
  fleet.current('w').crash();
  await inner.exited;
}

describe('shutdown', () => {
  it('stops children in reverse start order and runs their hooks', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      children: ['a', 'b', 'c'].map((id) => fleet.spec(id)),
    });
    await sup.stop();
    expect(fleet.log).toEqual([
      'start:a',
      'onStart:a',
      'start:b',
      'onStart:b',
      'start:c',
      'onStart:c',
      'stop:c',
      'onShutdown:c:shutdown',
      'stop:b',
      'onShutdown:b:shutdown',
      'stop:a',
      'onShutdown:a:shutdown',
    ]);
    expect(await sup.exited).toBe('shutdown');
    await sup.stop(); // stopping twice is harmless
  });

  it('kills a child that does not stop within its timeout, without its onShutdown hook', async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      children: [fleet.spec('a'), fleet.spec('stuck', { hang: true, shutdown: 50 }), fleet.spec('c')],
    });
    const exited = next(sup, 'child_exited', 'stuck');
    await sup.stop();
    expect(fleet.only('stop:', 'kill:', 'onShutdown:')).toEqual([
      'stop:c',
      'onShutdown:c:shutdown',
      'stop:stuck',
      'kill:stuck',
      'stop:a',
      'onShutdown:a:shutdown',
    ]);
    expect((await exited).reason).toEqual({ error: 'killed' });
  });

  it("'brutal_kill' kills at once without asking the child to stop", async () => {
    const fleet = new Fleet();
    const sup = await start({
      strategy: 'one_for_one',
      children: [fleet.spec('b', { shutdown: 'brutal_kill' })],
    });
    await sup.terminateChild('b');
    expect(fleet.only('stop:', 'kill:', 'onShutdown:')).toEqual(['kill:b']);
  });

  it('a child whose stop() rejects is killed', async () => {
    const fleet = new Fleet();
    const base = fleet.spec('x');
    const sup = await start({
      strategy: 'one_for_one',
      children: [
        {
          ...base,
          start: async () => {
            const child = (await base.start()) as Child;
            return {
              exited: child.exited,
              kill: () => child.kill(),
              stop: () => Promise.reject(new Error('no')),
            };
          },
        },
      ],
    });
    await sup.terminateChild('x');
    expect(fleet.only('kill:', 'onShutdown:')).toEqual(['kill:x']);
  });

  it("a nested supervisor ('infinity' by default) stops its own children first", async () => {
    const fleet = new Fleet();
    const inners: Supervisor<unknown>[] = [];
    const sup = await start({
      strategy: 'one_for_one',
      children: [fleet.spec('a'), innerSpec(fleet, inners)],
    });
    await sup.stop();
    expect(fleet.only('stop:')).toEqual(['stop:w', 'stop:a']);
    expect(await inners[0]!.exited).toBe('shutdown');
  });

  it('kill() kills every child at once and runs no hooks', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one', children: [fleet.spec('a'), fleet.spec('b')] });
    const shutdown = next(sup, 'supervisor_shutdown');
    sup.kill();
    expect((await shutdown).reason).toEqual({ error: 'killed' });
    expect(fleet.only('stop:', 'kill:', 'onShutdown:')).toEqual(['kill:a', 'kill:b']);
  });
});

describe('hooks and start failures', () => {
  it('runs onStart with the child on every start, restarts included', async () => {
    const fleet = new Fleet();
    const seen: Child[] = [];
    const sup = await start({
      strategy: 'one_for_one',
      children: [fleet.spec('a', { onStart: (child) => void seen.push(child) })],
    });
    const first = fleet.current('a');
    const restarted = next(sup, 'child_restarted', 'a');
    first.crash();
    await restarted;
    expect(seen).toEqual([first, fleet.current('a')]);
    expect(seen[1]).not.toBe(first);
  });

  it('a child that fails to start fails startSupervisor after stopping the children already started', async () => {
    const fleet = new Fleet();
    const err = await rejectsWith(
      startSupervisor({
        name: 'top',
        strategy: 'one_for_one',
        children: [
          fleet.spec('a'),
          fleet.spec('b'),
          fleet.spec('bad', {
            start: () => {
              throw new Error('no database');
            },
          }),
          fleet.spec('never'),
        ],
      }),
      'CHILD_START_FAILED',
    );
    expect(err.message).toBe('supervisor "top": child "bad" failed to start: no database');
    expect(err.details).toEqual({ supervisor: 'top', id: 'bad' });
    expect(fleet.only('start:', 'stop:')).toEqual(['start:a', 'start:b', 'stop:b', 'stop:a']);
  });

  it('a throwing onStart fails the start and kills the child', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one' });
    const spec = fleet.spec('h', {
      onStart: () => {
        throw new Error('hook failed');
      },
    });
    await rejectsWith(sup.startChild(spec), 'CHILD_START_FAILED');
    expect(fleet.only('start:', 'kill:')).toEqual(['start:h', 'kill:h']);
    expect(sup.whichChildren()).toEqual([]);
  });

  it('a start that returns no Child fails', async () => {
    const sup = await start({ strategy: 'one_for_one' });
    const err = await rejectsWith(
      sup.startChild({ id: 'odd', start: () => ({}) as unknown as Child }),
      'CHILD_START_FAILED',
    );
    expect((err.cause as RelupError).code).toBe('BAD_CHILD_SPEC');
  });
});

describe('dynamic children', () => {
  it('startChild / terminateChild / restartChild / deleteChild at runtime', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_all', children: [fleet.spec('a')] });
    const started = next(sup, 'child_started', 'd');
    const d = await sup.startChild(fleet.spec('d', { restart: 'transient' }));
    expect(d).toBe(fleet.current('d'));
    await started;
    await rejectsWith(sup.startChild(fleet.spec('d')), 'DUPLICATE_CHILD');
    await rejectsWith(sup.restartChild('d'), 'CHILD_RUNNING');
    await rejectsWith(sup.deleteChild('d'), 'CHILD_RUNNING');
    expect(sup.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 0, workers: 2 });

    await sup.terminateChild('d');
    expect(sup.whichChildren()).toEqual([
      { id: 'a', type: 'worker', restart: 'permanent', running: true, restarts: 0 },
      { id: 'd', type: 'worker', restart: 'transient', running: false, restarts: 0 },
    ]);
    expect(fleet.only('stop:', 'start:a')).toEqual(['start:a', 'stop:d']); // a sibling stop is no crash

    await sup.restartChild('d');
    expect(sup.countChildren().active).toBe(2);
    await sup.terminateChild('d');
    await sup.deleteChild('d');
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a']);

    for (const call of [sup.terminateChild('zz'), sup.restartChild('zz'), sup.deleteChild('zz')]) {
      const err = await rejectsWith(call, 'UNKNOWN_CHILD');
      expect(err.details).toEqual({ supervisor: 'supervisor', id: 'zz' });
    }
  });

  it('childTemplate: startChild(args) starts many children from one template', async () => {
    const fleet = new Fleet();
    const sup = await startSupervisor({
      name: 'sessions',
      strategy: 'one_for_one',
      intensity: 5,
      childTemplate: (args: { session: string }) =>
        fleet.spec(`session-${args.session}`, { restart: 'transient' }),
    });
    running.push(sup);
    for (const session of ['1', '2', '3']) await sup.startChild({ session });
    expect(sup.countChildren()).toEqual({ specs: 3, active: 3, supervisors: 0, workers: 3 });
    await rejectsWith(sup.startChild({ session: '2' }), 'DUPLICATE_CHILD');

    const restarted = next(sup, 'child_restarted', 'session-2');
    fleet.current('session-2').crash();
    await restarted;
    await exitHandled(sup, 'session-3', () => fleet.current('session-3').exitNormally());
    expect(sup.whichChildren().map((c) => [c.id, c.running])).toEqual([
      ['session-1', true],
      ['session-2', true],
      ['session-3', false],
    ]);
    expect(fleet.only('start:')).toEqual([
      'start:session-1',
      'start:session-2',
      'start:session-3',
      'start:session-2',
    ]);
  });

  it('a template that throws or returns a bad spec is BAD_CHILD_SPEC', async () => {
    const sup = await startSupervisor({
      strategy: 'one_for_one',
      childTemplate: (n: number): ChildSpec => {
        if (n < 0) throw new Error('negative');
        return { id: `w${n}`, start: 'nope' } as unknown as ChildSpec;
      },
    });
    running.push(sup);
    await rejectsWith(sup.startChild(-1), 'BAD_CHILD_SPEC');
    const err = await rejectsWith(sup.startChild(1), 'BAD_CHILD_SPEC');
    expect(err.details).toEqual({ id: 'w1', field: 'start' });
  });

  it('unsubscribed listeners get no more events, and a throwing listener breaks nothing', async () => {
    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one' });
    const seen: string[] = [];
    const off = sup.on((e) => void seen.push(e.type));
    sup.on(() => {
      throw new Error('bad listener');
    });
    await sup.startChild(fleet.spec('a'));
    off();
    await sup.startChild(fleet.spec('b'));
    expect(seen).toEqual(['child_started']);
  });
});

describe('bad input', () => {
  const start0 = () => new Fleet().spec('x').start();
  const cases: [string, unknown, string][] = [
    ['missing id', { start: start0 }, 'id'],
    ['empty id', { id: '', start: start0 }, 'id'],
    ['start not a function', { id: 'x', start: 42 }, 'start'],
    ['unknown restart type', { id: 'x', start: start0, restart: 'sometimes' }, 'restart'],
    ['negative shutdown', { id: 'x', start: start0, shutdown: -1 }, 'shutdown'],
    ['unknown shutdown', { id: 'x', start: start0, shutdown: 'soon' }, 'shutdown'],
    ['unknown type', { id: 'x', start: start0, type: 'manager' }, 'type'],
    ['onStart not a function', { id: 'x', start: start0, onStart: 'hi' }, 'onStart'],
    ['onShutdown not a function', { id: 'x', start: start0, onShutdown: 1 }, 'onShutdown'],
  ];

  it.each(cases)(
    'rejects a child spec with %s (BAD_CHILD_SPEC naming id and field)',
    async (_, spec, field) => {
      const err = await rejectsWith(
        startSupervisor({ strategy: 'one_for_one', children: [spec as ChildSpec] }),
        'BAD_CHILD_SPEC',
      );
      expect(err.details).toMatchObject({ field });
      expect(err.message).toContain(field);
      if ((spec as { id?: string }).id === 'x') expect(err.message).toContain('"x"');
      const sup = await start({ strategy: 'one_for_one' });
      await rejectsWith(sup.startChild(spec as ChildSpec), 'BAD_CHILD_SPEC');
    },
  );

  const flags: [string, Record<string, unknown>, string][] = [
    ['unknown strategy', { strategy: 'one_for_some' }, 'strategy'],
    ['negative intensity', { strategy: 'one_for_one', intensity: -1 }, 'intensity'],
    ['fractional intensity', { strategy: 'one_for_one', intensity: 1.5 }, 'intensity'],
    ['zero period', { strategy: 'one_for_one', period: 0 }, 'period'],
    ['template not a function', { strategy: 'one_for_one', childTemplate: {} }, 'childTemplate'],
    ['children not an array', { strategy: 'one_for_one', children: {} }, 'children'],
    ['logger without methods', { strategy: 'one_for_one', logger: {} }, 'logger'],
  ];

  it.each(flags)(
    'rejects supervisor options with %s (BAD_CHILD_SPEC naming the field)',
    async (_, options, field) => {
      const err = await rejectsWith(
        startSupervisor({ name: 'sup', ...options } as unknown as Parameters<typeof startSupervisor>[0]),
        'BAD_CHILD_SPEC',
      );
      expect(err.details).toEqual({ supervisor: 'sup', field });
    },
  );

  it('rejects duplicate ids with DUPLICATE_CHILD before starting anything', async () => {
    const fleet = new Fleet();
    const err = await rejectsWith(
      startSupervisor({ strategy: 'one_for_one', children: [fleet.spec('a'), fleet.spec('a')] }),
      'DUPLICATE_CHILD',
    );
    expect(err.details).toEqual({ supervisor: 'supervisor', id: 'a' });
    expect(fleet.log).toEqual([]);
  });
});

describe('logging', () => {
  it('accepts a pino logger and reports crashes and giving up', async () => {
    const lines: { level: string; msg: string }[] = [];
    const record =
      (level: string) =>
      (_obj: object, msg?: string): void =>
        void lines.push({ level, msg: msg ?? '' });
    const logger: SupervisorLogger = { info: record('info'), warn: record('warn'), error: record('error') };
    const pinoLogger: SupervisorLogger = pino({ level: 'silent' });
    await (await startSupervisor({ strategy: 'one_for_one', logger: pinoLogger })).stop();

    const fleet = new Fleet();
    const sup = await start({ strategy: 'one_for_one', intensity: 0, logger, children: [fleet.spec('a')] });
    fleet.current('a').crash();
    await sup.exited;
    expect(lines).toContainEqual({ level: 'warn', msg: 'child crashed' });
    expect(lines).toContainEqual({ level: 'error', msg: 'restart intensity reached' });
  });
});
