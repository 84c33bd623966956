import { createHash } from 'node:crypto';

/** The lowercase hex sha256 of some bytes: the digest release manifests pin module files with. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
