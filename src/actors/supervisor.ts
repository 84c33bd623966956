import { RelupError } from '../errors.ts';
import { type Child, type ExitReason, exitOf, isChild, isNormalExit, KILLED } from './child.ts';
import { shutdownChild } from './child-shutdown.ts';
import {
  type ChildSpec,
  type ChildType,
  type ResolvedChildSpec,
  type RestartType,
  resolveChildSpec,
} from './child-spec.ts';
import { RestartIntensity } from './restart-intensity.ts';
import { SupervisorEvents, type SupervisorListener } from './supervisor-events.ts';
import {
  duplicateChild,
  type ResolvedSupervisorOptions,
  resolveSupervisorOptions,
  type SupervisorOptions,
} from './supervisor-options.ts';

/** One row of {@link Supervisor.whichChildren}, in start order. */
export interface ChildInfo {
  id: string;
  type: ChildType;
  restart: RestartType;
  running: boolean;
  /** How often the supervisor restarted it after a crash. */
  restarts: number;
}

/** The counts of {@link Supervisor.countChildren}, as OTP's `count_children`. */
export interface ChildCounts {
  specs: number;
  active: number;
  supervisors: number;
  workers: number;
}

/**
 * An OTP supervisor, itself a {@link Child} so it nests under another supervisor. Calls and exit
 * handling run one at a time in arrival order, like a gen_server's mailbox: a call made after an
 * event was seen runs after that event was handled.
 */
export interface Supervisor<A = never> extends Child {
  readonly name: string;
  /** Adds and starts a child: from a spec, or from `childTemplate(args)` when the supervisor has a template. */
  startChild(arg: ChildSpec | A): Promise<Child>;
  /** Stops a child as its shutdown policy says and keeps its spec (a temporary child's spec is dropped). */
  terminateChild(id: string): Promise<void>;
  /** Starts a terminated child again from its spec; CHILD_RUNNING when it runs. */
  restartChild(id: string): Promise<Child>;
  /** Drops the spec of a terminated child; CHILD_RUNNING when it runs. */
  deleteChild(id: string): Promise<void>;
  /** Every child spec, in start order, and whether its child runs. */
  whichChildren(): ChildInfo[];
  /** How many specs, running children, supervisors and workers. */
  countChildren(): ChildCounts;
  /** Subscribes to the supervisor's events; returns the unsubscribe function. */
  on(listener: SupervisorListener): () => void;
}

interface Entry {
  spec: ResolvedChildSpec;
  child: Child | undefined;
  restarts: number;
}

function logFields(reason: ExitReason): object {
  return typeof reason === 'string' ? { reason } : { reason: 'error', err: reason.error };
}

class OtpSupervisor<A> implements Supervisor<A> {
  readonly exited: Promise<ExitReason>;
  readonly name: string;
  private resolveExited: (reason: ExitReason) => void = () => {};
  private readonly entries: Entry[] = [];
  /** Every started child not yet exited, so a kill reaches children that are being stopped too. */
  private readonly live = new Set<Child>();
  private readonly intensity: RestartIntensity;
  private readonly events: SupervisorEvents;
  private queue: Promise<unknown> = Promise.resolve();
  private state: 'running' | 'stopping' | 'exited' = 'running';

  constructor(private readonly options: ResolvedSupervisorOptions<A>) {
    this.name = options.name;
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });
    this.intensity = new RestartIntensity(options.intensity, options.period);
    this.events = new SupervisorEvents((err, event) =>
      options.logger.warn({ supervisor: this.name, event: event.type, err }, 'supervisor listener threw'),
    );
  }

  on(listener: SupervisorListener): () => void {
    return this.events.on(listener);
  }

  /** Starts the initial children in order; on a failure stops those started and rethrows. */
  init(): Promise<void> {
    return this.call(async () => {
      for (const spec of this.options.children) {
        const entry: Entry = { spec, child: undefined, restarts: 0 };
        this.entries.push(entry);
        try {
          await this.startEntry(entry);
        } catch (err) {
          await this.shutdown({ error: err });
          throw err;
        }
      }
    });
  }

  startChild(arg: ChildSpec | A): Promise<Child> {
    return this.call(async () => {
      const spec = this.specFor(arg);
      if (this.find(spec.id)) throw duplicateChild(this.name, spec.id);
      const entry: Entry = { spec, child: undefined, restarts: 0 };
      this.entries.push(entry);
      try {
        return await this.startEntry(entry);
      } catch (err) {
        this.remove(entry);
        throw err;
      }
    });
  }

  terminateChild(id: string): Promise<void> {
    return this.call(() => this.stopEntry(this.get(id)));
  }

  restartChild(id: string): Promise<Child> {
    return this.call(async () => this.startEntry(this.notRunning(this.get(id))));
  }

  deleteChild(id: string): Promise<void> {
    return this.call(async () => this.remove(this.notRunning(this.get(id))));
  }

  whichChildren(): ChildInfo[] {
    return this.entries.map(({ spec, child, restarts }) => ({
      id: spec.id,
      type: spec.type,
      restart: spec.restart,
      running: child !== undefined,
      restarts,
    }));
  }

  countChildren(): ChildCounts {
    const supervisors = this.entries.filter((e) => e.spec.type === 'supervisor').length;
    return {
      specs: this.entries.length,
      active: this.entries.filter((e) => e.child).length,
      supervisors,
      workers: this.entries.length - supervisors,
    };
  }

  stop(): Promise<void> {
    void this.enqueue(() => this.shutdown('shutdown'));
    return this.exited.then(() => {});
  }

  kill(): void {
    if (this.state === 'exited') return;
    this.options.logger.warn({ supervisor: this.name }, 'supervisor killed');
    for (const child of this.live) child.kill();
    for (const entry of this.entries) entry.child = undefined;
    this.finish(KILLED);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => {});
    return run;
  }

  /** A public call: queued, and refused once the supervisor has exited. */
  private call<T>(op: () => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      if (this.state !== 'running') throw this.stopped();
      return op();
    });
  }

  /** A method, not a field test, because `kill()` may change the state across an await. */
  private hasExited(): boolean {
    return this.state === 'exited';
  }

  private stopped(): RelupError {
    return new RelupError('ACTOR_STOPPED', `supervisor "${this.name}" has exited`, { supervisor: this.name });
  }

  private specFor(arg: ChildSpec | A): ResolvedChildSpec {
    const template = this.options.childTemplate;
    if (!template) return resolveChildSpec(arg);
    let spec: ChildSpec;
    try {
      spec = template(arg as A);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new RelupError(
        'BAD_CHILD_SPEC',
        `supervisor "${this.name}": childTemplate threw: ${message}`,
        { supervisor: this.name, field: 'childTemplate' },
        { cause: err },
      );
    }
    return resolveChildSpec(spec);
  }

  private find(id: string): Entry | undefined {
    return this.entries.find((e) => e.spec.id === id);
  }

  private get(id: string): Entry {
    const entry = this.find(id);
    if (entry) return entry;
    throw new RelupError('UNKNOWN_CHILD', `supervisor "${this.name}" has no child "${id}"`, {
      supervisor: this.name,
      id,
    });
  }

  private notRunning(entry: Entry): Entry {
    if (!entry.child) return entry;
    const { id } = entry.spec;
    throw new RelupError('CHILD_RUNNING', `supervisor "${this.name}": child "${id}" is running`, {
      supervisor: this.name,
      id,
    });
  }

  private remove(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
  }

  private startFailed(id: string, err: unknown): RelupError {
    const message = err instanceof Error ? err.message : String(err);
    return new RelupError(
      'CHILD_START_FAILED',
      `supervisor "${this.name}": child "${id}" failed to start: ${message}`,
      { supervisor: this.name, id },
      { cause: err },
    );
  }

  /** Starts one child and runs its onStart hook; a throwing hook fails the start and kills the child. */
  private async startEntry(entry: Entry): Promise<Child> {
    const { id } = entry.spec;
    let child: Child;
    try {
      const started: unknown = await entry.spec.start();
      if (!isChild(started)) {
        throw new RelupError('BAD_CHILD_SPEC', `child spec "${id}": start must return a Child`, {
          id,
          field: 'start',
        });
      }
      child = started;
    } catch (err) {
      throw this.startFailed(id, err);
    }
    if (this.hasExited()) {
      child.kill();
      throw this.stopped();
    }
    this.live.add(child);
    entry.child = child;
    this.watch(entry, child);
    try {
      await entry.spec.onStart?.(child);
    } catch (err) {
      entry.child = undefined;
      child.kill();
      throw this.startFailed(id, err);
    }
    if (this.hasExited()) throw this.stopped();
    this.options.logger.info({ supervisor: this.name, child: id }, 'child started');
    this.events.emit({ type: 'child_started', id });
    return child;
  }

  private watch(entry: Entry, child: Child): void {
    void exitOf(child).then((reason) => {
      this.live.delete(child);
      this.events.emit({ type: 'child_exited', id: entry.spec.id, reason });
      if (entry.child === child) void this.enqueue(() => this.handleExit(entry, child, reason));
    });
  }

  /** A child exited by itself: run its hook, then restart as its restart type and the strategy say. */
  private async handleExit(entry: Entry, child: Child, reason: ExitReason): Promise<void> {
    if (entry.child !== child || this.state !== 'running') return;
    entry.child = undefined;
    const { id, restart } = entry.spec;
    const fields = { supervisor: this.name, child: id, ...logFields(reason) };
    if (isNormalExit(reason)) this.options.logger.info(fields, 'child exited');
    else this.options.logger.warn(fields, 'child crashed');
    await this.runShutdownHook(entry, reason);
    if (restart === 'temporary') return this.remove(entry);
    if (restart === 'transient' && isNormalExit(reason)) return;
    await this.restartFrom(entry);
  }

  private async runShutdownHook(entry: Entry, reason: ExitReason): Promise<void> {
    try {
      await entry.spec.onShutdown?.(reason);
    } catch (err) {
      this.options.logger.warn({ supervisor: this.name, child: entry.spec.id, err }, 'onShutdown hook threw');
    }
  }

  /** Stops one running child as its shutdown policy says; a killed child gets no onShutdown hook. */
  private async stopEntry(entry: Entry): Promise<void> {
    const child = entry.child;
    if (child) {
      entry.child = undefined;
      const { id, shutdown } = entry.spec;
      const result = await shutdownChild(child, shutdown);
      if (!result.killed) await this.runShutdownHook(entry, result.reason);
      else if (result.killed !== 'brutal_kill') {
        const fields = { supervisor: this.name, child: id, why: result.killed, err: result.stopError };
        this.options.logger.warn(fields, 'child did not stop gracefully and was killed');
      }
    }
    // OTP drops a temporary child's spec as soon as its child is gone.
    if (entry.spec.restart === 'temporary') this.remove(entry);
  }

  /** The running children a crash of `entry` takes down with it, in start order. */
  private siblingsOf(entry: Entry): Entry[] {
    switch (this.options.strategy) {
      case 'one_for_one':
        return [];
      case 'one_for_all':
        return this.entries.filter((e) => e !== entry && e.child);
      case 'rest_for_one':
        return this.entries.slice(this.entries.indexOf(entry) + 1).filter((e) => e.child);
    }
  }

  /**
   * Restarts after a crash: stops the affected siblings in reverse start order, then starts them
   * all in start order. A failed start is one more restart, and is treated like a crash of that child.
   */
  private async restartFrom(failed: Entry): Promise<void> {
    const pending = new Set<Entry>([failed]);
    let current: Entry | undefined = failed;
    while (current && this.state === 'running') {
      if (!this.intensity.record()) return this.escalate();
      const siblings = this.siblingsOf(current);
      for (const e of siblings) pending.add(e);
      for (const e of siblings.reverse()) await this.stopEntry(e);
      current = await this.startPending(pending);
    }
  }

  /** Starts the pending entries in start order; returns the one whose start failed, if any. */
  private async startPending(pending: Set<Entry>): Promise<Entry | undefined> {
    for (const entry of this.entries.filter((e) => pending.has(e))) {
      try {
        await this.startEntry(entry);
      } catch (err) {
        this.options.logger.error({ supervisor: this.name, child: entry.spec.id, err }, 'restart failed');
        return entry;
      }
      pending.delete(entry);
      entry.restarts++;
      this.events.emit({ type: 'child_restarted', id: entry.spec.id });
    }
    return undefined;
  }

  private async escalate(): Promise<void> {
    const { intensity, period } = this.options;
    const error = new RelupError(
      'SUPERVISOR_SHUTDOWN',
      `supervisor "${this.name}" gave up: more than ${intensity} restart(s) in ${period} ms`,
      { supervisor: this.name, intensity, period },
    );
    this.options.logger.error({ supervisor: this.name, err: error }, 'restart intensity reached');
    await this.shutdown({ error });
  }

  /** Stops every child in reverse start order, then exits with `reason`. */
  private async shutdown(reason: ExitReason): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    for (const entry of [...this.entries].reverse()) await this.stopEntry(entry);
    this.finish(reason);
  }

  private finish(reason: ExitReason): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    this.resolveExited(reason);
    this.events.emit({ type: 'supervisor_shutdown', reason });
  }
}

/**
 * Starts a supervisor and its children in order. Rejects with BAD_CHILD_SPEC / DUPLICATE_CHILD on
 * bad options, or CHILD_START_FAILED (after stopping the children already started).
 */
export async function startSupervisor<A = never>(options: SupervisorOptions<A>): Promise<Supervisor<A>> {
  const supervisor = new OtpSupervisor(resolveSupervisorOptions(options));
  await supervisor.init();
  return supervisor;
}
