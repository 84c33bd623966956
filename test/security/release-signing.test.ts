import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { createUser } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { fetchRelease } from '../../src/release/fetch-release.ts';
import { publishRelease } from '../../src/release/object-store.ts';
import { signRelease } from '../../src/release/release-signature.ts';
import { command } from '../control/control-helpers.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { relupctl } from '../helpers/relupctl.ts';

const text = new TextDecoder();

/** `relupctl release seal --sign <dir>` with the operator seed in the environment. */
function sealAndSign(dir: string, seed: string) {
  return relupctl(['release', 'seal', '--sign', dir], { RELUP_OPERATOR_SEED: seed });
}

describe('releases signed by a trusted operator key (issue 11 §4)', () => {
  const nats = useNats();
  const trusted = createUser();
  const intruder = createUser();
  const seed = text.decode(trusted.getSeed());
  let sandbox: ReleaseSandbox;
  let nc: NatsConnection;
  let node: RelupNode | undefined;
  let control: ControlServer | undefined;
  const releaseKeys = [trusted.getPublicKey()];
  const boot = (release: string) =>
    startChatNode(nats.server().url, 'rs', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release,
      releaseKeys,
    });

  beforeAll(async () => {
    sandbox = releaseSandbox();
    nc = await nats.connect();
    expect(await sealAndSign(join(sandbox.releasesDir, '1.0.0'), seed)).toMatchObject({ code: 0 });
  });
  afterAll(async () => {
    await control?.stop();
    await node?.stop();
    sandbox?.remove();
  });

  it('a node refuses to boot a release that is not signed by a trusted key', async () => {
    await expect(boot('1.1.0')).rejects.toMatchObject({ code: 'UNSIGNED_RELEASE' });
    await signRelease(join(sandbox.releasesDir, '1.1.0'), intruder.getSeed());
    await expect(boot('1.1.0')).rejects.toMatchObject({ code: 'UNSIGNED_RELEASE' });
    node = await boot('1.0.0');
    control = await startControlServer(node);
    expect(node.release.version).toBe('1.0.0');
  });

  it('an upgrade to a release signed by an untrusted key, or changed after signing, is refused; the node stays', async () => {
    const r = await command(nc, 'rs', 'upgrade', { to: '1.1.0' });
    expect(JSON.stringify(r)).toContain('UNSIGNED_RELEASE');
    expect(node?.release.version).toBe('1.0.0');
    // Signed by the trusted key, then edited: the signature no longer verifies.
    const dir = join(sandbox.releasesDir, '1.1.0');
    await signRelease(dir, seed);
    const manifest = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8'));
    manifest.services[0].restart = 'cleanup';
    writeFileSync(join(dir, 'release.json'), JSON.stringify(manifest, null, 2));
    const tampered = await command(nc, 'rs', 'upgrade', { to: '1.1.0' });
    expect(JSON.stringify(tampered)).toMatch(
      /UNSIGNED_RELEASE.*does not verify|does not verify.*UNSIGNED_RELEASE/,
    );
    expect(node?.release.version).toBe('1.0.0');
  });

  it('fetching a release that is not signed by a trusted key leaves nothing on disk', async () => {
    const dir = join(sandbox.releasesDir, '1.1.0');
    expect(await sealAndSign(dir, text.decode(intruder.getSeed()))).toMatchObject({ code: 0 });
    const opts = { bucket: 'relup_signed_test' };
    await publishRelease(nc, dir, opts);
    const empty = mkdtempSync(join(tmpdir(), 'relup-signed-'));
    try {
      await expect(
        fetchRelease(nc, 'chat', '1.1.0', empty, { ...opts, trustedKeys: releaseKeys }),
      ).rejects.toMatchObject({
        code: 'UNSIGNED_RELEASE',
      });
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('signed by the trusted key, the same release upgrades', async () => {
    expect(await sealAndSign(join(sandbox.releasesDir, '1.1.0'), seed)).toMatchObject({ code: 0 });
    const r = await command(nc, 'rs', 'upgrade', { to: '1.1.0' });
    expect(r.result?.outcome, JSON.stringify(r)).toBe('done');
    expect(node?.release.version).toBe('1.1.0');
    expect(existsSync(join(sandbox.releasesDir, '1.1.0', 'release.json'))).toBe(true);
  });
});
