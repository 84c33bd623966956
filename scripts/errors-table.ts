// Rewrites the error table of README.md from the catalog in src/errors.ts (npm run docs:errors).
import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCodes } from '../src/errors.ts';

/** The Markdown table of every error code. */
export function errorsTable(): string {
  const rows = Object.entries(ErrorCodes).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

const START = '<!-- errors:start -->';
const END = '<!-- errors:end -->';

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync('README.md', 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${errorsTable()}\n${readme.slice(b)}`);
}
