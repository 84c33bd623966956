import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findRelup, releasesBeside } from '../../src/relup/locate.ts';

const project = mkdtempSync(join(tmpdir(), 'relup-locate-'));
const relups = join(project, 'relups');
mkdirSync(join(relups, 'chat'), { recursive: true });
writeFileSync(join(relups, 'chat', '1.0.0-1.1.0.yaml'), 'release: chat\n');
for (const v of ['1.0.0', '1.1.0']) {
  mkdirSync(join(project, 'releases', v), { recursive: true });
  writeFileSync(join(project, 'releases', v, 'release.json'), '{}');
}

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('locating relups', () => {
  it('finds the up file, else the down plan of the reverse file, else NO_RELUP naming both paths', async () => {
    expect(await findRelup(relups, 'chat', '1.0.0', '1.1.0')).toEqual({
      file: join(relups, 'chat', '1.0.0-1.1.0.yaml'),
      direction: 'up',
    });
    expect(await findRelup(relups, 'chat', '1.1.0', '1.0.0')).toEqual({
      file: join(relups, 'chat', '1.0.0-1.1.0.yaml'),
      direction: 'down',
    });
    await expect(findRelup(relups, 'chat', '1.0.0', '2.0.0')).rejects.toMatchObject({
      code: 'NO_RELUP',
      message: expect.stringContaining('2.0.0-1.0.0.yaml'),
    });
  });

  it('finds the releases beside the relups when both versions are there', async () => {
    const file = join(relups, 'chat', '1.0.0-1.1.0.yaml');
    expect(await releasesBeside(file, '1.0.0', '1.1.0')).toBe(join(project, 'releases'));
    expect(await releasesBeside(file, '1.0.0', '9.9.9')).toBeUndefined();
  });
});
