import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorsTable } from '../scripts/errors-table.ts';

describe('README', () => {
  it('lists every error code of the catalog (npm run docs:errors)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(errorsTable());
  });
});
