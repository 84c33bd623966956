import { afterAll } from 'vitest';
import { type NodeProcess, type SpawnNodeOptions, spawnNode } from './node-spawn.ts';

export { command, type NodeProcess } from './node-spawn.ts';

/**
 * Starts real `relup node` processes and stops every one of them by pid after the test file,
 * also when a test fails.
 */
export function useNodeProcesses(): {
  start(opts: Omit<SpawnNodeOptions, 'onSpawn'>): Promise<NodeProcess>;
} {
  const live = new Set<NodeProcess>();
  afterAll(() => {
    for (const proc of live) if (proc.alive()) process.kill(proc.pid, 'SIGKILL');
  });
  return {
    start: (opts) =>
      spawnNode({
        ...opts,
        onSpawn: (proc) => {
          live.add(proc);
          void proc.exited.then(() => live.delete(proc));
        },
      }),
  };
}
