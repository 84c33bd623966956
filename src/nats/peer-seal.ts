import { createHmac, timingSafeEqual } from 'node:crypto';
import { headers, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';

/** The header that carries a node's seal. */
const HEADER = 'Relup-Seal';

/**
 * Proves that a message comes from a node of the cluster: an HMAC-SHA256 of the subject and
 * payload under a key every node holds and no client does. NATS permissions keep clients off
 * the named-actor subjects; the seal lets a named actor tell a node's message from any other
 * (a server without permissions, a misconfigured user) and refuse it.
 */
export class PeerSeal {
  private readonly key: Buffer;

  constructor(key: string) {
    if (typeof key !== 'string' || key.trim().length < 16)
      throw new RelupError('BAD_OPTIONS', 'the cluster key must be at least 16 characters');
    this.key = Buffer.from(key.trim());
  }

  /** Headers that seal a message to `subject` with `data`. */
  headers(subject: string, data: Uint8Array): MsgHdrs {
    const h = headers();
    h.set(HEADER, this.mac(subject, data).toString('base64url'));
    return h;
  }

  /** True when the message carries a valid seal. */
  verify(msg: Msg): boolean {
    const seal = msg.headers?.get(HEADER);
    if (!seal) return false;
    const got = Buffer.from(seal, 'base64url');
    const want = this.mac(msg.subject, msg.data);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private mac(subject: string, data: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(subject).update('\n').update(data).digest();
  }
}
