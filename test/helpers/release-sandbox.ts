import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { type manifestSchema, sealRelease } from '../../src/release/manifest.ts';

/** `release.json` as written (fields with defaults may be left out). */
export type ManifestJson = z.input<typeof manifestSchema>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Releases and relups of the chat example copied into a folder inside the repo (so `xstate` resolves), to vary. */
export interface ReleaseSandbox {
  releasesDir: string;
  relupsDir: string;
  /** A new release `version` from a copy of `base`, with edits applied to chat.ts, and extra files; sealed. */
  derive(
    base: string,
    version: string,
    edit?: (src: string) => string,
    files?: Record<string, string>,
  ): Promise<void>;
  /** Edits `release.json` of a release in place (its parsed JSON), then seals it again. */
  editManifest(version: string, edit: (manifest: ManifestJson) => void): Promise<void>;
  /** Writes `relups/chat/<name>.yaml`. */
  relup(name: string, yaml: string): void;
  remove(): void;
}

/** Creates a sandbox with chat 1.0.0, 1.1.0 and the repo's relups. */
export function releaseSandbox(): ReleaseSandbox {
  const dir = mkdtempSync(join(ROOT, '.relup-test-'));
  const releasesDir = join(dir, 'releases');
  const relupsDir = join(dir, 'relups');
  cpSync(join(ROOT, 'examples/chat/releases'), releasesDir, { recursive: true });
  cpSync(join(ROOT, 'relups'), relupsDir, { recursive: true });
  return {
    releasesDir,
    relupsDir,
    async derive(base, version, edit = (s) => s, files = {}) {
      const target = join(releasesDir, version);
      cpSync(join(releasesDir, base), target, { recursive: true });
      const chat = join(target, 'chat.ts');
      const src = readFileSync(chat, 'utf8').replaceAll(`version: '${base}'`, `version: '${version}'`);
      writeFileSync(chat, edit(src));
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(target, name)), { recursive: true });
        writeFileSync(join(target, name), text);
      }
      const manifest = JSON.parse(readFileSync(join(target, 'release.json'), 'utf8'));
      manifest.version = version;
      for (const s of manifest.services) s.version = version;
      writeFileSync(join(target, 'release.json'), JSON.stringify(manifest, null, 2));
      await sealRelease(target);
    },
    async editManifest(version, edit) {
      const file = join(releasesDir, version, 'release.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      edit(manifest);
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      await sealRelease(join(releasesDir, version));
    },
    relup(name, yaml) {
      mkdirSync(join(relupsDir, 'chat'), { recursive: true });
      writeFileSync(join(relupsDir, 'chat', `${name}.yaml`), yaml);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
