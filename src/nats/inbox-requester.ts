import { type NatsConnection, nuid, type Subscription } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';

interface Pending {
  resolve: (data: Uint8Array) => void;
  reject: (err: RelupError) => void;
  at: number;
}

/**
 * Requests correlated through one wildcard inbox subscription and one sweep timer. The client's
 * own request() allocates a timer, a promise race and error objects per call, which on a hot
 * path (a journal append per state change) costs more than the request itself.
 */
export class InboxRequester {
  private readonly inbox = `_INBOX.${nuid.next()}.`;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweep: ReturnType<typeof setInterval>;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    const cut = this.inbox.length;
    this.sub = nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(cut);
        const p = this.pending.get(token);
        if (!p) return;
        this.pending.delete(token);
        if (msg.data.length === 0 && msg.headers?.code === 503)
          p.reject(new RelupError('NO_RESPONDERS', 'nobody answers on that subject'));
        else p.resolve(msg.data);
      },
    });
    this.sweep = setInterval(
      () => {
        const old = Date.now() - this.timeoutMs;
        for (const [token, p] of this.pending)
          if (p.at < old) {
            this.pending.delete(token);
            p.reject(new RelupError('TIMEOUT', `no reply within ${this.timeoutMs} ms`));
          }
      },
      Math.min(250, this.timeoutMs),
    );
    this.sweep.unref();
    // A closed connection answers nothing any more: what waits fails at once.
    void nc.closed().then(() => this.close());
  }

  /** Sends a request; resolves with the reply's bytes (TIMEOUT, NO_RESPONDERS otherwise). */
  request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    const token = (this.next++).toString(36);
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject, at: Date.now() });
      this.nc.publish(subject, data, { reply: this.inbox + token });
    });
  }

  /** Stops the sweep and the subscription; requests still waiting fail. */
  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const p of this.pending.values())
      p.reject(new RelupError('NATS_UNAVAILABLE', 'the connection closed'));
    this.pending.clear();
  }
}
