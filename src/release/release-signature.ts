import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromPublic } from '@nats-io/nkeys';
import { RelupError } from '../errors.ts';
import { seedKeyPair } from '../nats/nkey-seed.ts';
import { canonicalJson } from './canonical-json.ts';
import { MANIFEST_FILE } from './manifest.ts';

const encoder = new TextEncoder();

/** A release manifest's signature: who signed it and the ed25519 signature (base64url). */
export interface ReleaseSignature {
  key: string;
  sig: string;
}

/**
 * The bytes a release signature covers: the canonical JSON of the whole manifest but its
 * `signature`, so every file's sha256, the services and their restart modes are signed.
 */
function signedBytes(manifest: Record<string, unknown>): Uint8Array {
  const { signature: _signature, ...rest } = manifest;
  return encoder.encode(canonicalJson({ release: rest }));
}

async function readRaw(releaseDir: string): Promise<Record<string, unknown>> {
  const file = join(releaseDir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RelupError('BAD_RELEASE', `cannot read ${file}: ${(err as Error).message}`, { file });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new RelupError('BAD_RELEASE', `${file}: (root): must be a JSON object`, { file });
  return raw as Record<string, unknown>;
}

/** Signs a sealed release's manifest with an operator nkey seed, writing `signature` into release.json. */
export async function signRelease(releaseDir: string, seed: string | Uint8Array): Promise<ReleaseSignature> {
  const raw = await readRaw(releaseDir);
  const kp = seedKeyPair(seed);
  try {
    const signature = {
      key: kp.getPublicKey(),
      sig: Buffer.from(kp.sign(signedBytes(raw))).toString('base64url'),
    };
    await writeFile(join(releaseDir, MANIFEST_FILE), `${JSON.stringify({ ...raw, signature }, null, 2)}\n`);
    return signature;
  } finally {
    kp.clear();
  }
}

/**
 * Refuses a release whose manifest is not signed by one of the trusted keys (UNSIGNED_RELEASE),
 * when any are configured; the sha256 of each file is checked separately, against the manifest.
 * Returns the key that signed it, undefined when no keys are configured.
 */
export async function checkReleaseSignature(
  releaseDir: string,
  trustedKeys: readonly string[] | undefined,
): Promise<string | undefined> {
  if (!trustedKeys || trustedKeys.length === 0) return undefined;
  const raw = await readRaw(releaseDir);
  const s = raw.signature as Partial<ReleaseSignature> | undefined;
  const where = join(releaseDir, MANIFEST_FILE);
  if (!s || typeof s.key !== 'string' || typeof s.sig !== 'string')
    throw new RelupError('UNSIGNED_RELEASE', `${where} carries no signature`, { releaseDir });
  if (!trustedKeys.includes(s.key))
    throw new RelupError('UNSIGNED_RELEASE', `${where} is signed by ${s.key}, not a trusted release key`, {
      releaseDir,
      key: s.key,
    });
  let ok = false;
  try {
    const sig = Buffer.from(s.sig, 'base64url');
    ok = sig.length === 64 && fromPublic(s.key).verify(signedBytes(raw), sig);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new RelupError(
      'UNSIGNED_RELEASE',
      `the signature of ${where} does not verify: the manifest changed`,
      {
        releaseDir,
        key: s.key,
      },
    );
  return s.key;
}
