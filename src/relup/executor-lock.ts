import { RelupError } from '../errors.ts';

/** One upgrade at a time on a node: the one place that says which upgrade holds it. */
export class UpgradeLock {
  private holder: string | undefined;

  /** The upgrade running now, if any. */
  get running(): string | undefined {
    return this.holder;
  }

  /** Takes the lock for an upgrade; throws BUSY naming the upgrade that holds it. */
  acquire(id: string): void {
    if (this.holder !== undefined)
      throw new RelupError('BUSY', `upgrade ${this.holder} is running`, {
        running: this.holder,
        refused: id,
      });
    this.holder = id;
  }

  /** Gives the lock back; a release by an upgrade that does not hold it changes nothing. */
  release(id: string): void {
    if (this.holder === id) this.holder = undefined;
  }
}
