import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkEngine,
  loadedModuleCount,
  loadedVersions,
  loadService,
  verifyRelease,
} from '../../src/release/code-loader.ts';
import { ENGINE_VERSION } from '../../src/release/engine-version.ts';
import { readManifest, sealRelease } from '../../src/release/manifest.ts';
import { useTempDir, writeFiles } from './release-fixture.ts';

const defineServiceUrl = new URL('../../src/services/define-service.ts', import.meta.url).href;

/** A service module with module-level state, so two instances of it are told apart. */
function chatModule(version: string): string {
  return [
    `import { defineService } from '${defineServiceUrl}';`,
    `import { greeting } from './lib/util.ts';`,
    'let accepted = 0;',
    'export default defineService({',
    `  name: 'chat', version: '${version}', channel: { kind: 'stub' },`,
    '  accept: () => ({ n: ++accepted, greeting }),',
    '});',
    '',
  ].join('\n');
}

/** An unsealed release.json with one chat service. */
function releaseJson(version: string, opts: { engine?: string; module?: string } = {}): object {
  return {
    name: 'chat',
    version,
    engine: opts.engine ?? '>=0.1.0',
    services: [{ name: 'chat', module: opts.module ?? 'chat.ts', version }],
    files: {},
  };
}

/** Writes and seals `<root>/<version>/` with one chat service; `files` overrides the module files. */
async function makeRelease(
  root: string,
  version: string,
  opts: { engine?: string; files?: Record<string, string> } = {},
): Promise<string> {
  const dir = join(root, version);
  await writeFiles(dir, {
    'release.json': releaseJson(version, opts),
    'lib/util.ts': `export const greeting = 'hello from ${version}';\n`,
    'chat.ts': chatModule(version),
    ...opts.files,
  });
  await sealRelease(dir);
  return dir;
}

describe('code loader', () => {
  const tmp = useTempDir();

  it('loads two versions of a module as distinct instances, and one version once', async () => {
    const before = loadedModuleCount();
    const v1 = await makeRelease(tmp(), '1.0.0');
    const v2 = await makeRelease(tmp(), '1.1.0');
    const a = await loadService(v1, await readManifest(v1), 'chat');
    const b = await loadService(v2, await readManifest(v2), 'chat');
    expect(a).not.toBe(b);
    expect([a.version, b.version]).toEqual(['1.0.0', '1.1.0']);
    expect(a.accept?.({})).toEqual({ n: 1, greeting: 'hello from 1.0.0' });
    expect(a.accept?.({})).toEqual({ n: 2, greeting: 'hello from 1.0.0' });
    expect(b.accept?.({})).toEqual({ n: 1, greeting: 'hello from 1.1.0' });
    expect(await loadService(v1, await readManifest(v1), 'chat')).toBe(a);
    expect(loadedModuleCount()).toBe(before + 2);
    expect(loadedVersions()).toEqual(expect.arrayContaining(['1.0.0', '1.1.0']));
  });

  it('refuses a file that does not match its sha256, before importing anything', async () => {
    const dir = await makeRelease(join(tmp(), 'tampered'), '1.0.0');
    const manifest = await readManifest(dir);
    await writeFile(join(dir, 'lib/util.ts'), `export const greeting = 'evil';\n`);
    const before = loadedModuleCount();
    await expect(loadService(dir, manifest, 'chat')).rejects.toMatchObject({
      code: 'HASH_MISMATCH',
      details: { file: 'lib/util.ts', expected: manifest.files['lib/util.ts'], actual: expect.any(String) },
    });
    expect(loadedModuleCount()).toBe(before);
  });

  it('refuses a module that is a symlink out of the release folder', async () => {
    const root = join(tmp(), 'symlinked');
    const dir = join(root, '1.0.0');
    await writeFiles(root, {
      'outside/chat.ts': chatModule('1.0.0'),
      '1.0.0/release.json': releaseJson('1.0.0'),
    });
    await symlink(join(root, 'outside/chat.ts'), join(dir, 'chat.ts'));
    const manifest = await sealRelease(dir, ['chat.ts']);
    await expect(verifyRelease(dir, manifest)).rejects.toMatchObject({
      code: 'MODULE_OUTSIDE_RELEASE',
      details: { file: 'chat.ts' },
    });
    await expect(loadService(dir, manifest, 'chat')).rejects.toMatchObject({
      code: 'MODULE_OUTSIDE_RELEASE',
    });
  });

  it('refuses a ../ module path, and accepts a symlink that stays inside', async () => {
    const root = join(tmp(), 'dotdot');
    await writeFiles(root, { 'shared/chat.ts': chatModule('1.0.0') });
    const dir = join(root, '1.0.0');
    await writeFiles(dir, { 'release.json': releaseJson('1.0.0', { module: '../shared/chat.ts' }) });
    const manifest = await sealRelease(dir, ['../shared/chat.ts']);
    await expect(loadService(dir, manifest, 'chat')).rejects.toMatchObject({
      code: 'MODULE_OUTSIDE_RELEASE',
      details: { file: '../shared/chat.ts' },
    });

    const inside = await makeRelease(join(tmp(), 'inside'), '1.0.0');
    await symlink('util.ts', join(inside, 'lib/alias.ts'));
    const sealed = await sealRelease(inside, ['chat.ts', 'lib/util.ts', 'lib/alias.ts']);
    await expect(verifyRelease(inside, sealed)).resolves.toMatchObject({
      paths: { 'lib/alias.ts': expect.stringMatching(/lib\/util\.ts$/) },
    });
  });

  it('refuses a module whose default export is not the declared service', async () => {
    const root = join(tmp(), 'mismatch');
    const wrongVersion = await makeRelease(root, '1.0.0', { files: { 'chat.ts': chatModule('9.9.9') } });
    await expect(loadService(wrongVersion, await readManifest(wrongVersion), 'chat')).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      details: { exported: { name: 'chat', version: '9.9.9' } },
    });
    const noDefault = await makeRelease(root, '1.0.1', { files: { 'chat.ts': 'export const x = 1;\n' } });
    await expect(loadService(noDefault, await readManifest(noDefault), 'chat')).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      cause: expect.objectContaining({ code: 'BAD_SERVICE_DEFINITION' }),
    });
    const throws = await makeRelease(root, '1.0.2', { files: { 'chat.ts': "throw new Error('boom');\n" } });
    await expect(loadService(throws, await readManifest(throws), 'chat')).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      message: expect.stringContaining('boom'),
    });
    await expect(loadService(throws, await readManifest(throws), 'nope')).rejects.toMatchObject({
      code: 'UNKNOWN_SERVICE',
    });
  });

  it('refuses to hand out a stale instance of a release changed and re-sealed after loading', async () => {
    const dir = await makeRelease(join(tmp(), 'resealed'), '1.0.0');
    await loadService(dir, await readManifest(dir), 'chat');
    await writeFile(join(dir, 'lib/util.ts'), `export const greeting = 'changed';\n`);
    const resealed = await sealRelease(dir);
    await expect(loadService(dir, resealed, 'chat')).rejects.toMatchObject({ code: 'LOAD_FAILED' });
  });

  it('refuses a release whose engine range excludes this engine', async () => {
    expect(ENGINE_VERSION).toBe('0.1.0');
    expect(() => checkEngine({ name: 'chat', version: '1.0.0', engine: '>=0.1.0 <1' })).not.toThrow();
    expect(() => checkEngine({ name: 'chat', version: '1.0.0', engine: '>=9.0.0' })).toThrowError(
      expect.objectContaining({
        code: 'ENGINE_MISMATCH',
        details: expect.objectContaining({ actual: '0.1.0' }),
      }),
    );
    const dir = await makeRelease(join(tmp(), 'engine'), '1.0.0', { engine: '^2.0.0' });
    await expect(loadService(dir, await readManifest(dir), 'chat')).rejects.toMatchObject({
      code: 'ENGINE_MISMATCH',
    });
  });
});
