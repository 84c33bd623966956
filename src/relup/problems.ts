import { RelupError } from '../errors.ts';
import { type Problem, renderProblem } from '../problems.ts';

/** The BAD_RELUP error listing every problem of a relup file at once, each with its file and line. */
export function badRelup(problems: readonly Problem[]): RelupError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new RelupError(
    'BAD_RELUP',
    `invalid relup (${count}):\n  ${problems.map(renderProblem).join('\n  ')}`,
    {
      problems,
    },
  );
}
