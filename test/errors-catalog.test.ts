import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.ts';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the error catalog', () => {
  it('holds only codes the runtime raises: each is named in source outside the catalog', () => {
    const text = sources(SRC)
      .filter((f) => !f.endsWith(`${join('src', 'errors.ts')}`))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = Object.keys(ErrorCodes).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
