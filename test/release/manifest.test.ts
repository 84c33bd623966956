import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RelupError } from '../../src/errors.ts';
import { type Problem, renderProblem } from '../../src/problems.ts';
import { sha256Hex } from '../../src/release/hash.ts';
import { listReleases, readManifest, sealRelease } from '../../src/release/manifest.ts';
import { useTempDir, writeFiles } from './release-fixture.ts';

const HASH = 'a'.repeat(64);

async function manifestError(dir: string): Promise<RelupError> {
  return readManifest(dir).then(
    () => expect.fail('readManifest accepted an invalid manifest'),
    (err: RelupError) => err,
  );
}

describe('release manifest', () => {
  const tmp = useTempDir();

  it('reports every problem at once, each with file path and JSON path', async () => {
    const dir = join(tmp(), 'releases', '1.0.0');
    await writeFiles(dir, {
      'release.json': {
        name: 'chat',
        version: '1.0',
        engine: 'not a range',
        services: [
          { name: 'chat', module: 'x.ts', version: '1.0.0', requires: ['ghost'] },
          { name: 'chat', module: 'chat.ts', version: 'v-one', restart: 'sometimes' },
          { name: 'bad.name', module: 'chat.ts', version: '1.0.0' },
        ],
        files: { 'chat.ts': HASH, 'lib/util.ts': 'xyz' },
      },
    });
    const err = await manifestError(dir);
    const file = join(dir, 'release.json');
    expect(err.code).toBe('BAD_RELEASE');
    const problems = (err.details as { problems: Problem[] }).problems.map(renderProblem);
    expect(problems.sort()).toEqual(
      [
        `${file}: version: must be a semver version`,
        `${file}: engine: must be a semver range`,
        `${file}: services[1].version: must be a semver version`,
        `${file}: services[1].restart: must be "restart", "cleanup" or "clear", or { service?, acceptor?, channels? } of those`,
        `${file}: services[2].name: must be a subject-safe token ([A-Za-z0-9_-]+)`,
        `${file}: files["lib/util.ts"]: must be a lowercase hex sha256 (64 characters)`,
        `${file}: version: "1.0" does not match its folder name "1.0.0"`,
        `${file}: services[1].name: "chat" is declared twice`,
        `${file}: services[0].module: "x.ts" is not listed in files`,
      ].sort(),
    );
    expect(err.message).toContain('services[0].module: "x.ts" is not listed in files');
  });

  it('checks a redundant service: two different nodes, a known mode, no unknown field', async () => {
    const dir = join(tmp(), 'releases', '1.0.0');
    await writeFiles(dir, {
      'release.json': {
        name: 'seq',
        version: '1.0.0',
        engine: '>=0.1.0',
        services: [
          { name: 'a', module: 'a.ts', version: '1.0.0', redundant: { primary: 'n1', backup: 'n1' } },
          {
            name: 'b',
            module: 'a.ts',
            version: '1.0.0',
            redundant: { primary: 'n1', backup: 'n2', mode: 'hot' },
          },
          {
            name: 'c',
            module: 'a.ts',
            version: '1.0.0',
            redundant: { primary: 'n1', backup: 'n2', lease: 1 },
          },
          {
            name: 'd',
            module: 'a.ts',
            version: '1.0.0',
            redundant: {
              primary: 'n1',
              backup: 'n2',
              timing: { beatMs: 500, renewDeadlineMs: 600, leaseMs: 600 },
            },
          },
        ],
        files: { 'a.ts': HASH },
      },
    });
    const err = await manifestError(dir);
    expect(err.code).toBe('BAD_RELEASE');
    const problems = (err.details as { problems: Problem[] }).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'services[0].redundant: primary and backup must be two nodes',
        'services[1].redundant.mode: must be "legacy" or "warm"',
        expect.stringMatching(/^services\[2\]\.redundant: .*lease/),
        'services[3].redundant.timing: renewDeadlineMs must be at least 2 × beatMs',
        'services[3].redundant.timing: leaseMs must be at least 1.2 × renewDeadlineMs',
      ]),
    );
  });

  it('refuses a manifest that is not JSON, and names a missing one UNKNOWN_RELEASE', async () => {
    const dir = join(tmp(), 'broken');
    await writeFiles(dir, { 'release.json': '{ "name": ' });
    const err = await manifestError(dir);
    expect(err.code).toBe('BAD_RELEASE');
    expect(renderProblem((err.details as { problems: Problem[] }).problems[0]!)).toMatch(
      /release\.json: \(root\): not valid JSON/,
    );
    await expect(readManifest(join(tmp(), 'nowhere'))).rejects.toMatchObject({ code: 'UNKNOWN_RELEASE' });
  });

  it('seals a release: hashes every module file below the folder and fills in defaults', async () => {
    const dir = join(tmp(), 'seal', '2.0.0');
    await writeFiles(dir, {
      'release.json': {
        name: 'chat',
        version: '2.0.0',
        engine: '>=0.1.0',
        note: 'kept',
        services: [{ name: 'chat', module: 'chat.ts', version: '2.0.0' }],
        files: { 'stale.ts': HASH },
      },
      'chat.ts': 'export default {};\n',
      'lib/util.ts': 'export const x = 1;\n',
      'lib/old.mjs': 'export {};\n',
      'README.md': '# not a module\n',
      '.cache/skip.ts': '',
    });
    const manifest = await sealRelease(dir);
    expect(manifest.files).toEqual({
      'chat.ts': sha256Hex(Buffer.from('export default {};\n')),
      'lib/old.mjs': sha256Hex(Buffer.from('export {};\n')),
      'lib/util.ts': sha256Hex(Buffer.from('export const x = 1;\n')),
    });
    expect(manifest.services[0]).toEqual({
      name: 'chat',
      module: 'chat.ts',
      version: '2.0.0',
      requires: [],
      restart: 'restart',
      durability: 'durable',
    });
    const written = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8'));
    expect(written.note).toBe('kept');
    expect(await sealRelease(dir, ['chat.ts'])).toMatchObject({ files: { 'chat.ts': expect.any(String) } });
    expect(Object.keys((await readManifest(dir)).files)).toEqual(['chat.ts']);
  });

  it('lists the release versions present, sorted by semver', async () => {
    const root = join(tmp(), 'list');
    const manifest = (version: string) => ({ 'release.json': { version } });
    await writeFiles(join(root, '1.10.0'), manifest('1.10.0'));
    await writeFiles(join(root, '1.2.0'), manifest('1.2.0'));
    await writeFiles(join(root, '1.0.0'), manifest('1.0.0'));
    await writeFiles(join(root, '2.0.0'), { 'chat.ts': '' });
    await writeFiles(join(root, 'notes'), manifest('3.0.0'));
    expect(await listReleases(root)).toEqual(['1.0.0', '1.2.0', '1.10.0']);
    await expect(listReleases(join(root, 'missing'))).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
  });
});
