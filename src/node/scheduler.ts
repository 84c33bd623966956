import { RelupError } from '../errors.ts';

/** A scheduled job: runs every `everyMs`; in maintenance it is skipped unless allowed there. */
export interface JobSpec {
  name: string;
  everyMs: number;
  run: () => void | Promise<void>;
  allowInMaintenance?: boolean;
}

/** What a job has done, for status and tests. */
export interface JobStats {
  name: string;
  runs: number;
  skipped: number;
  failures: number;
  lastError?: string;
}

interface Job {
  spec: JobSpec;
  stats: JobStats;
  timer: ReturnType<typeof setInterval>;
  running: boolean;
}

/**
 * The runtime's scheduler. Every tick asks the node whether the job may run (in
 * maintenance only jobs allowed there do); a run still going when the next tick
 * comes is not started twice.
 */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly mayRun: (job: JobSpec) => boolean) {}

  /** Schedules a job. */
  every(spec: JobSpec): void {
    if (!spec || typeof spec.name !== 'string' || typeof spec.run !== 'function' || !(spec.everyMs > 0))
      throw new RelupError('BAD_OPTIONS', 'a job needs a name, a run function and everyMs > 0');
    if (this.jobs.has(spec.name))
      throw new RelupError('DUPLICATE_NAME', `a job named ${spec.name} is already scheduled`, {
        name: spec.name,
      });
    const job: Job = {
      spec,
      stats: { name: spec.name, runs: 0, skipped: 0, failures: 0 },
      timer: setInterval(() => void this.tick(spec.name), spec.everyMs),
      running: false,
    };
    job.timer.unref();
    this.jobs.set(spec.name, job);
  }

  /** One tick of a job, as its timer does it: `ran`, `skipped` (not allowed now) or `busy`. */
  async tick(name: string): Promise<'ran' | 'skipped' | 'busy'> {
    const job = this.jobs.get(name);
    if (!job) throw new RelupError('UNKNOWN_JOB', `no job named ${name}`, { name });
    if (!this.mayRun(job.spec)) {
      job.stats.skipped++;
      return 'skipped';
    }
    if (job.running) return 'busy';
    job.running = true;
    try {
      await job.spec.run();
      job.stats.runs++;
    } catch (err) {
      job.stats.failures++;
      job.stats.lastError = (err as Error)?.message ?? String(err);
    } finally {
      job.running = false;
    }
    return 'ran';
  }

  /** Unschedules a job. */
  cancel(name: string): void {
    const job = this.jobs.get(name);
    if (job) clearInterval(job.timer);
    this.jobs.delete(name);
  }

  /** Stops every job. */
  stopAll(): void {
    for (const name of [...this.jobs.keys()]) this.cancel(name);
  }

  /** The stats of every job. */
  stats(): JobStats[] {
    return [...this.jobs.values()].map((j) => ({ ...j.stats }));
  }
}
