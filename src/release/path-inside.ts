import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Whether `path` lies strictly inside the folder `root` (both absolute): releases' containment rule. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Whether a path relative to a release folder (as manifests and relup files name files) stays inside it. */
export function staysInRelease(file: string): boolean {
  const root = resolve(sep, 'release');
  return isInside(root, resolve(root, file));
}
