import type { z } from 'zod';

/**
 * One problem with an input, the one shape every error that lists problems uses
 * (`details.problems` of BAD_RELUP, BAD_COMMAND, BAD_RELEASE, ...): where and what.
 */
export interface Problem {
  /** Path from the input's root: `up[2].apply.priority`, `files["a b.ts"]`; '' for the root itself. */
  path: string;
  message: string;
  /** The file the input came from, when it came from one. */
  file?: string;
  /** Its line in that file, when known. */
  line?: number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A property path as text: `up[2].apply.priority`, a key that is no identifier quoted: `files["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENTIFIER.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** The problems of a failed zod parse, each path taken from `root` on; the one place zod issues are read. */
export function zodProblems(error: z.ZodError, root: readonly PropertyKey[] = []): Problem[] {
  return error.issues.map((i) => ({ path: formatPath([...root, ...i.path]), message: i.message }));
}

/** `file:line: path: message`, the root shown as `(root)`; the form messages and the CLI print. */
export function renderProblem(p: Problem): string {
  const where = p.file === undefined ? '' : `${p.file}${p.line === undefined ? '' : `:${p.line}`}: `;
  return `${where}${p.path || '(root)'}: ${p.message}`;
}

/** Problems as one line each joined by `; `. */
export function renderProblems(problems: readonly Problem[]): string {
  return problems.map(renderProblem).join('; ');
}
