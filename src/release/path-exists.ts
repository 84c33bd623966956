import { stat } from 'node:fs/promises';

/** True when something is at the path (release folders, relup files); any error means no. */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
