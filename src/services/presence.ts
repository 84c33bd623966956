import type { KV } from '@nats-io/kv';
import { decode, encode } from '../nats/codec.ts';

/** A node's heartbeat record in the `nodes` bucket. */
export interface Heartbeat {
  node: string;
  at: number;
}

/**
 * Node liveness with our own timestamps: nats-server 2.9 has no per-key TTL, so a node is
 * alive while its heartbeat is younger than the lease (3 beats by default).
 */
export class Presence {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The time in the last heartbeat known stored: others judge this node by it. */
  private storedAt = 0;
  private lapsed = false;
  private lapseCount = 0;

  constructor(
    private readonly kv: KV,
    readonly node: string,
    readonly beatMs = 1000,
    readonly leaseMs = 3 * beatMs,
  ) {}

  /** Writes the first heartbeat and keeps beating. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.lapses();
      this.beat().catch(() => {});
    }, this.beatMs);
    this.timer.unref();
  }

  /** Stops beating and removes the record, so others take over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kv.delete(this.node).catch(() => {});
  }

  /** True while the node's last heartbeat is within the lease. */
  async isAlive(node: string): Promise<boolean> {
    if (node === this.node) return true;
    const entry = await this.kv.get(node);
    if (entry?.operation !== 'PUT' || entry.value.length === 0) return false;
    const hb = decode<Heartbeat>(entry.value);
    return Date.now() - hb.at < this.leaseMs;
  }

  /**
   * How many times this node's lease may have lapsed in the others' eyes: its last stored
   * heartbeat grew older than the lease less one beat (a cut-off or stalled connection), so
   * another node may have taken over what it owns. Whoever serves owned state compares the
   * count with the one it last checked ownership at.
   */
  lapses(): number {
    if (this.storedAt > 0 && Date.now() - this.storedAt >= this.leaseMs - this.beatMs) this.lapse();
    return this.lapseCount;
  }

  /** Writes a heartbeat now and resolves once it is stored: the lease is held again from here. */
  renew(): Promise<void> {
    return this.beat();
  }

  private lapse(): void {
    if (this.lapsed) return;
    this.lapsed = true;
    this.lapseCount++;
  }

  private async beat(): Promise<void> {
    const at = Date.now();
    await this.kv.put(this.node, encode({ node: this.node, at } satisfies Heartbeat));
    // A beat stored long after the previous one: the gap between them was a lapse.
    if (this.storedAt > 0 && at - this.storedAt >= this.leaseMs - this.beatMs) this.lapse();
    if (at > this.storedAt) {
      this.storedAt = at;
      this.lapsed = false;
    }
  }
}
