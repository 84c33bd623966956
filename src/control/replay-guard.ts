/**
 * Remembers the nonces of accepted signed commands until they expire anyway, so a captured
 * command cannot be sent twice. In memory: a restarted node forgets them, which is why the
 * verifier refuses anything issued before it started (see docs/protocol.md).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** How many nonces are remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `nonce` until `expiresAt` (ms since the epoch); false when it is already
   * remembered, i.e. a replay. Forgets expired nonces first.
   */
  admit(nonce: string, expiresAt: number, now: number): boolean {
    // A full scan per signed command: commands are operator actions, a few per minute, and a
    // flood needs a trusted key, so a sorted structure would buy nothing.
    for (const [n, exp] of this.seen) if (exp < now) this.seen.delete(n);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, expiresAt);
    return true;
  }
}
