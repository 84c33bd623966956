import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Subjects } from '../nats/subjects.ts';

/** Admits one connect request: creates the session or throws to refuse it. */
export type Admit = (msg: Msg) => void;

/**
 * A service's acceptor: subscribed on `<prefix>.svc.<service>.connect` in the service's queue
 * group, so nodes share new sessions. Suspended, it holds connect requests in arrival order
 * and admits them on resume — none refused, none lost.
 */
export class Acceptor {
  private sub: Subscription | undefined;
  private forwardedSub: Subscription | undefined;
  private takesForwarded = true;
  private held: Msg[] = [];
  private suspended = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly service: string,
    private readonly admit: Admit,
  ) {}

  /** Subscribes; requests start flowing to admit. */
  start(): void {
    if (this.sub) return;
    this.sub = this.nc.subscribe(this.subjects.connect(this.service), {
      queue: this.subjects.queue(this.service),
      callback: this.onConnect,
    });
    if (this.takesForwarded) this.subscribeForwarded();
  }

  /**
   * Whether this acceptor also takes the connects other nodes pass on (see forwardOrRefuse): only
   * while its node admits everyone, so a passed-on connect never lands where it is refused again.
   */
  takeForwarded(on: boolean): void {
    this.takesForwarded = on;
    if (!on) {
      const sub = this.forwardedSub;
      this.forwardedSub = undefined;
      void sub?.drain().catch(() => {});
    } else if (this.sub) this.subscribeForwarded();
  }

  private subscribeForwarded(): void {
    if (this.forwardedSub) return;
    this.forwardedSub = this.nc.subscribe(this.subjects.forwarded(this.service), {
      queue: this.subjects.queue(this.service),
      callback: this.onConnect,
    });
  }

  private readonly onConnect = (err: Error | null, msg: Msg): void => {
    // A subscription error (e.g. a permission violation) closes it: check() reports the closed acceptor.
    if (err) return;
    if (this.suspended) this.held.push(msg);
    else this.admit(msg);
  };

  /** Holds new connect requests. */
  suspend(): void {
    this.suspended = true;
  }

  /** Admits the held requests in arrival order, then new ones. */
  resume(): void {
    this.suspended = false;
    const held = this.held;
    this.held = [];
    for (const msg of held) this.admit(msg);
  }

  /** Present and subscribed, with the subscription still open. */
  check(): { ok: boolean; reason?: string } {
    if (!this.sub) return { ok: false, reason: `acceptor of ${this.service} is not subscribed` };
    if (this.sub.isClosed())
      return { ok: false, reason: `acceptor of ${this.service} has a closed subscription` };
    return { ok: true };
  }

  /** Connect requests waiting while suspended. */
  get heldCount(): number {
    return this.held.length;
  }

  /** True while holding requests. */
  get isSuspended(): boolean {
    return this.suspended;
  }

  /** Drains the subscription: requests already received are still admitted. */
  async stop(): Promise<void> {
    const sub = this.sub;
    const forwarded = this.forwardedSub;
    this.sub = undefined;
    this.forwardedSub = undefined;
    if (forwarded && !forwarded.isClosed()) await forwarded.drain();
    if (sub && !sub.isClosed()) await sub.drain();
  }
}
