// Starts a relup command (`relup`, `relupctl`) on the compiled runtime (dist/, `npm run build`)
// when a complete build is there and no source file is newer than it; otherwise on the
// TypeScript sources through tsx. RELUP_RUNTIME=tsx or =dist forces one. On the compiled
// runtime, tsx is registered under its own namespace and used only for TypeScript release
// modules, so the runtime's own code runs as tsc emitted it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Written by `npm run build` after tsc has finished (removed when a build starts). */
const STAMP = `${ROOT}dist/.built`;

/** The newest modification time under a folder (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) t = Math.max(t, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  return t;
}

/** True when this process should run dist/: a finished build, not older than src/ (when src/ ships). */
export function useDist() {
  const forced = process.env.RELUP_RUNTIME;
  if (forced === 'tsx') return false;
  if (!existsSync(STAMP)) {
    if (forced === 'dist')
      throw new Error('RELUP_RUNTIME=dist but there is no finished build: run `npm run build`');
    return false;
  }
  if (forced === 'dist') return true;
  // A checkout edited since its last build runs its sources, silently: stderr belongs to the command.
  return newest(`${ROOT}src`) <= statSync(STAMP).mtimeMs;
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Runs the command's `main()` from dist/cli/<name>.js or src/cli/<name>.ts. */
export async function run(name) {
  const { register } = await import('tsx/esm/api');
  if (!useDist()) {
    register();
    const { main } = await import(`../src/cli/${name}.ts`);
    return main();
  }
  const tsx = register({ namespace: 'relup-release' });
  const { setModuleImporter } = await import('../dist/release/module-import.js');
  setModuleImporter((url) =>
    TYPESCRIPT.test(new URL(url).pathname) ? tsx.import(url, import.meta.url) : import(url),
  );
  const { main } = await import(`../dist/cli/${name}.js`);
  return main();
}
