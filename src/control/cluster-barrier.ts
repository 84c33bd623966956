import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decode, encode } from '../nats/codec.ts';
import { type BarrierVerdict, signVerdict } from './barrier-signing.ts';
import type { BarrierSubjects } from './barrier-subjects.ts';

/**
 * The coordinator's side of a barrier at the point of no return: `go` once every node announced
 * ready, `abort` as soon as one cannot get there (its upgrade ended first, it said not ready, or
 * the deadline passed). Nobody passes unless everybody can.
 */
export class BarrierCoordinator {
  /** The nodes that announced ready, in order. */
  readonly ready: string[] = [];
  readonly decision: Promise<BarrierVerdict>;
  private verdict: BarrierVerdict | undefined;
  private resolve!: (v: BarrierVerdict) => void;
  private sub: Subscription | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly subjects: BarrierSubjects,
    private readonly nodes: readonly string[],
    private readonly timeoutMs: number,
    /** The barrier's id and the operator seed: verdicts are signed when commands are. */
    private readonly signing?: { id: string; seed: string | Uint8Array },
  ) {
    this.decision = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Listens for ready announcements; resolves once the server knows, before any node is asked to upgrade. */
  async start(): Promise<void> {
    this.sub = this.nc.subscribe(this.subjects.ready, {
      callback: (err, msg) => {
        if (!err) this.onReady(msg.data);
      },
    });
    await this.nc.flush();
    this.timer = setTimeout(
      () =>
        this.decide({ decision: 'abort', reason: `not every node was ready within ${this.timeoutMs} ms` }),
      this.timeoutMs,
    );
  }

  /** An upgrade replied: before the decision, that node can no longer pass, so nobody does. */
  nodeEnded(node: string, why: string): void {
    this.decide({ decision: 'abort', reason: `${node} ended its upgrade before the barrier: ${why}` });
  }

  /** Aborts the barrier unless it was decided already. */
  abort(reason: string): void {
    this.decide({ decision: 'abort', reason });
  }

  /** Stops listening. */
  close(): void {
    clearTimeout(this.timer);
    this.sub?.unsubscribe();
  }

  private onReady(data: Uint8Array): void {
    let body: { node?: unknown; ready?: unknown; error?: { message?: string } };
    try {
      body = decode(data);
    } catch {
      return;
    }
    const node = typeof body.node === 'string' ? body.node : undefined;
    if (!node || !this.nodes.includes(node)) return;
    if (this.verdict?.decision === 'abort') {
      // A node that reaches the barrier after the abort may have missed it: tell it again.
      this.publish(this.verdict);
      return;
    }
    if (body.ready !== true) {
      this.decide({
        decision: 'abort',
        reason: `${node} is not ready: ${body.error?.message ?? 'no reason given'}`,
      });
      return;
    }
    if (!this.ready.includes(node)) this.ready.push(node);
    if (this.ready.length === this.nodes.length) this.decide({ decision: 'go' });
  }

  private decide(verdict: BarrierVerdict): void {
    if (this.verdict) return;
    this.verdict = verdict;
    clearTimeout(this.timer);
    this.publish(verdict);
    this.resolve(verdict);
  }

  private publish(verdict: BarrierVerdict): void {
    const subject = verdict.decision === 'go' ? this.subjects.go : this.subjects.abort;
    const s = this.signing;
    this.nc.publish(subject, encode(s ? signVerdict(s.id, verdict, s.seed) : verdict));
  }
}
