import { RelupError } from '../errors.ts';

/** One problem of a relup file: where (document path like `up[2].apply.priority`, and line) and why. */
export interface RelupProblem {
  file: string;
  path: string;
  reason: string;
  line?: number;
}

/** A document path as text: `up[2].apply.priority`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

/** `file:line: path: reason`, the form the CLI prints. */
export function renderProblem(p: RelupProblem): string {
  return `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.path || '(root)'}: ${p.reason}`;
}

/** The BAD_RELUP error listing every problem at once. */
export function badRelup(problems: readonly RelupProblem[]): RelupError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new RelupError(
    'BAD_RELUP',
    `invalid relup (${count}):\n  ${problems.map(renderProblem).join('\n  ')}`,
    {
      problems,
    },
  );
}
