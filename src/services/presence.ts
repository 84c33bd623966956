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

  private async beat(): Promise<void> {
    await this.kv.put(this.node, encode({ node: this.node, at: Date.now() } satisfies Heartbeat));
  }
}
