// Re-seals release folders after editing their modules: `npm run release:seal -- <dir>...`.
import { sealRelease } from '../src/release/manifest.ts';

for (const dir of process.argv.slice(2)) {
  const m = await sealRelease(dir);
  process.stdout.write(`${dir}: ${m.name}@${m.version}, ${Object.keys(m.files).length} file(s) sealed\n`);
}
