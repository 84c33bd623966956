import { readFileSync } from 'node:fs';

// Read at runtime rather than imported as JSON: package.json lies outside `rootDir`, and the
// relative URL resolves to the package root both from `src/release/` and `dist/release/`.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The version of this relup engine (package.json), matched against a release's `engine` range. */
export const ENGINE_VERSION: string = pkg.version;
