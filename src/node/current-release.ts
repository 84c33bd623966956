import type { RunningRelease } from './node-types.ts';

/** The release a node runs now: read by status, restart modes and control; written by an upgrade. */
export class CurrentRelease {
  constructor(private now: RunningRelease) {}

  /** The release running now. */
  get(): RunningRelease {
    return this.now;
  }

  /** An upgrade finished: the node runs `release` from now on. */
  set(release: RunningRelease): void {
    this.now = release;
  }
}
