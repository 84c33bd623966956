import { Algorithms, encodeUser } from '@nats-io/jwt';
import { fromPublic, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { RelupError } from '../errors.ts';
import type { Subjects } from '../nats/subjects.ts';

/** How a node issues session credentials: the account signing key and the account it signs for. */
export interface SessionSigner {
  /** Seed of an account signing key of the relup account (`SA…`). */
  seed: string;
  /** Public key of the relup account (`A…`). */
  account: string;
  /** How long a session's credentials are valid, default one hour; the client renews before. */
  ttlMs?: number;
}

/** What a client gets with its session: a user JWT for its own key, and the inbox prefix it may use. */
export interface SessionCredentials {
  jwt: string;
  inboxPrefix: string;
  /** When the JWT expires, ms since the epoch. */
  expires: number;
}

/** The session message that asks for fresh credentials before the current ones expire. */
export const RENEW = 'session.renew';

/** The inbox prefix of one session: nobody else may subscribe to it. */
export function sessionInbox(session: string): string {
  return `_INBOX_${session}`;
}

/**
 * Issues each session a NATS user of its own: it may publish to its session subject (and ask
 * for a new session), and subscribe only to its own pushes and its own inbox prefix. The user
 * is the client's key, so the JWT is useless to anyone who reads it without the client's seed.
 */
export class SessionIssuer {
  private readonly signer: KeyPair;
  private readonly account: string;
  private readonly ttlMs: number;

  constructor(
    signer: SessionSigner,
    private readonly subjects: Subjects,
  ) {
    try {
      this.signer = fromSeed(new TextEncoder().encode(signer.seed.trim()));
      if (!this.signer.getPublicKey().startsWith('A')) throw new Error('not an account signing key');
      if (!signer.account.startsWith('A')) throw new Error('not an account public key');
      fromPublic(signer.account);
    } catch (err) {
      throw new RelupError('BAD_KEY', `session signer: ${(err as Error).message}`);
    }
    this.account = signer.account;
    this.ttlMs = signer.ttlMs ?? 3_600_000;
    if (!(this.ttlMs >= 1000)) throw new RelupError('BAD_OPTIONS', 'session signer ttlMs must be ≥ 1000');
  }

  /** The client's public user key from a connect request; BAD_MESSAGE for anything else. */
  checkKey(key: unknown): string {
    const needed = () =>
      new RelupError('BAD_MESSAGE', 'a connect request needs "key": the public nkey (U…) of the client', {
        needsKey: true,
      });
    if (typeof key !== 'string' || !key.startsWith('U') || key.length > 64) throw needed();
    try {
      fromPublic(key);
    } catch {
      throw needed();
    }
    return key;
  }

  /** The credentials of a session for the client's public user key (checked with checkKey). */
  async issue(session: string, key: string): Promise<SessionCredentials> {
    const inboxPrefix = sessionInbox(session);
    const expires = Date.now() + this.ttlMs;
    const s = this.subjects;
    const jwt = await encodeUser(
      `session-${session}`,
      key,
      this.account,
      {
        pub: { allow: [s.session(session), s.connect('*')] },
        sub: { allow: [s.push(session), `${inboxPrefix}.>`] },
      },
      { algorithm: Algorithms.v2, signer: this.signer, exp: Math.floor(expires / 1000) },
    );
    return { jwt, inboxPrefix, expires };
  }
}
