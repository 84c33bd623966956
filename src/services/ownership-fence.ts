import type { Presence } from './presence.ts';

/** Checks what this node hosts is still its own; drops what another node took over. */
export type OwnershipCheck = () => Promise<void>;

/**
 * Fences what a node serves as sole owner (named actors, sessions) after its presence lease may
 * have lapsed: another node may then have taken that state over, so before the node serves it
 * again (or lets a reply of it out) the lease is renewed and every check runs once, dropping what
 * is no longer this node's. Without it a node cut off from NATS and back would keep serving a
 * stale copy next to the new owner, and both would acknowledge the same sequence numbers.
 */
export class OwnershipFence {
  private checked = 0;
  private running: Promise<void> | undefined;
  private readonly checks: OwnershipCheck[] = [];

  constructor(private readonly presence: Presence) {}

  /** Adds a check run at every fence. */
  add(check: OwnershipCheck): void {
    this.checks.push(check);
  }

  /** True when the lease lapsed since ownership was last checked. */
  due(): boolean {
    return this.presence.lapses() !== this.checked;
  }

  /** Renews the lease and runs every check, once for all concurrent callers; rejects while NATS is out of reach. */
  pass(): Promise<void> {
    if (!this.running)
      this.running = (async () => {
        const at = this.presence.lapses();
        await this.presence.renew();
        for (const check of this.checks) await check();
        this.checked = at;
      })().finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
