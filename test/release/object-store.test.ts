import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyRelease } from '../../src/release/code-loader.ts';
import { ensureRelease, fetchRelease } from '../../src/release/fetch-release.ts';
import { sha256Hex } from '../../src/release/hash.ts';
import { readManifest } from '../../src/release/manifest.ts';
import { openReleaseObjects, publishRelease, releaseObjectName } from '../../src/release/object-store.ts';
import { CHAT_RELEASES } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

const SOURCE = join(CHAT_RELEASES, '1.1.0');
const enc = new TextEncoder();

let buckets = 0;
/** A fresh bucket per test, so tests share one server but no state. */
const bucket = () => ({ bucket: `relup_releases_t${++buckets}` });

describe('release distribution through the JetStream object store', () => {
  const nats = useNats();
  const dirs: string[] = [];
  /** An empty releases folder for a node that has nothing yet. */
  const emptyReleases = () => {
    const dir = mkdtempSync(join(tmpdir(), 'relup-fetch-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a release folder and fetches it, verified, into another releases folder', async () => {
    const nc = await nats.connect();
    const opts = bucket();
    const published = await publishRelease(nc, SOURCE, opts);
    expect(published).toEqual({
      name: 'chat',
      version: '1.1.0',
      objects: ['chat/1.1.0/chat.ts', 'chat/1.1.0/release.json'],
      changed: true,
    });
    const releases = emptyReleases();
    const manifest = await fetchRelease(nc, 'chat', '1.1.0', releases, opts);
    expect(manifest).toEqual(await readManifest(SOURCE));
    const target = join(releases, '1.1.0');
    expect(readdirSync(releases)).toEqual(['1.1.0']);
    expect(readFileSync(join(target, 'chat.ts'))).toEqual(readFileSync(join(SOURCE, 'chat.ts')));
    expect(readFileSync(join(target, 'release.json'))).toEqual(readFileSync(join(SOURCE, 'release.json')));
    await verifyRelease(target, manifest);
    // Publishing the same release again changes nothing; fetching onto an existing folder is refused.
    expect(await publishRelease(nc, SOURCE, opts)).toMatchObject({ changed: false, objects: [] });
    await expect(fetchRelease(nc, 'chat', '1.1.0', releases, opts)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('ensureRelease is a no-op when the folder exists and fetches when it is missing', async () => {
    const nc = await nats.connect();
    const opts = bucket();
    await publishRelease(nc, SOURCE, opts);
    const releases = emptyReleases();
    expect(await ensureRelease(nc, releases, 'chat', '1.1.0', opts)).toBe(true);
    expect(await ensureRelease(nc, releases, 'chat', '1.1.0', opts)).toBe(false);
    // Present on disk: the store is not even asked (this bucket does not have the release).
    expect(await ensureRelease(nc, CHAT_RELEASES, 'chat', '1.0.0', bucket())).toBe(false);
    await expect(ensureRelease(nc, releases, 'chat', '7.0.0', opts)).rejects.toMatchObject({
      code: 'UNKNOWN_RELEASE',
    });
    expect(readdirSync(releases)).toEqual(['1.1.0']);
  });

  it('refuses a tampered object and leaves nothing behind', async () => {
    const nc = await nats.connect();
    const opts = bucket();
    await publishRelease(nc, SOURCE, opts);
    const os = await openReleaseObjects(nc, opts);
    await os.putBlob(
      { name: releaseObjectName('chat', '1.1.0', 'chat.ts') },
      enc.encode('export default {};\n'),
    );
    const releases = emptyReleases();
    await expect(fetchRelease(nc, 'chat', '1.1.0', releases, opts)).rejects.toMatchObject({
      code: 'HASH_MISMATCH',
      details: { file: 'chat.ts' },
    });
    // Neither the release folder nor the temporary folder it was assembled in.
    expect(readdirSync(releases)).toEqual([]);
    expect(await ensureRelease(nc, releases, 'chat', '1.1.0', opts).catch((e) => e.code)).toBe(
      'HASH_MISMATCH',
    );
    expect(readdirSync(releases)).toEqual([]);
  });

  it('refuses file paths that leave the release folder, before writing anything', async () => {
    const nc = await nats.connect();
    const opts = bucket();
    const os = await openReleaseObjects(nc, opts);
    const evil = enc.encode('export default {};\n');
    const manifest = {
      name: 'chat',
      version: '6.6.6',
      engine: '>=0.1.0',
      services: [{ name: 'chat', module: '../escape.ts', version: '6.6.6' }],
      files: { '../escape.ts': sha256Hex(evil) },
    };
    await os.putBlob({ name: 'chat/6.6.6/../escape.ts' }, evil);
    await os.putBlob({ name: 'chat/6.6.6/release.json' }, enc.encode(JSON.stringify(manifest)));
    const parent = emptyReleases();
    const releases = join(parent, 'releases');
    mkdirSync(releases);
    await expect(fetchRelease(nc, 'chat', '6.6.6', releases, opts)).rejects.toMatchObject({
      code: 'MODULE_OUTSIDE_RELEASE',
    });
    expect(readdirSync(parent)).toEqual(['releases']);
    expect(readdirSync(releases)).toEqual([]);
  });

  it('refuses to publish a broken release or other content under a published version', async () => {
    const nc = await nats.connect();
    const opts = bucket();
    const copy = emptyReleases();
    const dir = join(copy, '1.1.0');
    mkdirSync(dir);
    writeFileSync(join(dir, 'release.json'), readFileSync(join(SOURCE, 'release.json')));
    writeFileSync(join(dir, 'chat.ts'), `${readFileSync(join(SOURCE, 'chat.ts'), 'utf8')}\n// edited\n`);
    await expect(publishRelease(nc, dir, opts)).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    await publishRelease(nc, SOURCE, opts);
    const other = JSON.parse(readFileSync(join(SOURCE, 'release.json'), 'utf8'));
    other.engine = '>=0.0.1';
    writeFileSync(join(dir, 'release.json'), JSON.stringify(other));
    writeFileSync(join(dir, 'chat.ts'), readFileSync(join(SOURCE, 'chat.ts')));
    await expect(publishRelease(nc, dir, opts)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses names and versions that are not tokens and semver', async () => {
    const nc = await nats.connect();
    const releases = emptyReleases();
    await expect(fetchRelease(nc, 'chat', '../1.0.0', releases)).rejects.toMatchObject({
      code: 'BAD_VERSION',
    });
    await expect(fetchRelease(nc, 'a/b', '1.0.0', releases)).rejects.toMatchObject({
      code: 'NOT_SUBJECT_SAFE',
    });
  });
});
