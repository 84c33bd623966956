import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/relupctl.js`;

/** How a `relupctl` run ended: its exit code and what it printed. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/relupctl.js …` from the repository root as an operator would: without the
 * caller's relup/NATS environment, with `env` added.
 */
export function relupctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('RELUP_') && k !== 'NATS_URL'),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...clean, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
