import { fromSeed, type KeyPair } from '@nats-io/nkeys';
import { RelupError } from '../errors.ts';

const encoder = new TextEncoder();

/** The key pair of an nkey seed (text is trimmed); BAD_KEY for anything that is not a seed. */
export function seedKeyPair(seed: string | Uint8Array): KeyPair {
  // A copy: clear() zeroes the seed the pair holds, which must not be the caller's buffer.
  const bytes = typeof seed === 'string' ? encoder.encode(seed.trim()) : seed.slice();
  try {
    return fromSeed(bytes);
  } catch (err) {
    throw new RelupError('BAD_KEY', `not an nkey seed: ${(err as Error).message}`);
  }
}
