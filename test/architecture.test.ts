import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

/** The layer folders of src/, lowest first, as docs/architecture.md's table lists them. */
function layers(): string[] {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  return [...doc.matchAll(/^\| `([a-z]+)\/` \|/gm)].map((m) => m[1] as string);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file (type-only ones included), resolved to paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.[^']+)'/g)].map(
    (m) => m[1],
  );
  return specs.map((s) => resolve(dirname(file), s as string));
}

/** The layer folder of a path under src/, or undefined for a file at the root (errors.ts, index.ts). */
function folderOf(path: string): string | undefined {
  const parts = relative(SRC, path).split('/');
  return parts.length > 1 ? parts[0] : undefined;
}

describe('architecture', () => {
  it('the layer table names every folder of src/', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect([...layers()].sort()).toEqual(folders);
  });

  it('no file imports from a higher layer (type-only imports included)', () => {
    const edges = sources(SRC).flatMap((file) => importsOf(file).map((target) => [file, target] as const));
    expect(upward(edges, layers())).toEqual([]);
  });

  it('the check reports an upward import and a root file importing a layer', () => {
    const edges = [
      [join(SRC, 'services', 'service-host.ts'), join(SRC, 'node', 'session-policy.ts')],
      [join(SRC, 'errors.ts'), join(SRC, 'nats', 'subjects.ts')],
      [join(SRC, 'node', 'boot.ts'), join(SRC, 'services', 'presence.ts')],
      [join(SRC, 'index.ts'), join(SRC, 'cli', 'relup.ts')],
    ] as const;
    expect(upward(edges, layers())).toEqual([
      'services/service-host.ts → node/session-policy.ts',
      'errors.ts → nats/subjects.ts',
    ]);
  });
});

/** The imports that go up the layer table; the public index may import anything. */
function upward(edges: readonly (readonly [string, string])[], order: string[]): string[] {
  const out: string[] = [];
  for (const [file, target] of edges) {
    if (relative(SRC, file) === 'index.ts') continue;
    const from = folderOf(file);
    const to = folderOf(target);
    const bad =
      from === undefined ? to !== undefined : to !== undefined && order.indexOf(to) > order.indexOf(from);
    if (bad) out.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
  }
  return out;
}
