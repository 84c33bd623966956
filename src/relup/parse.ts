import { LineCounter, parseDocument } from 'yaml';
import { badRelup } from './problems.ts';

/** A relup file parsed from YAML, able to tell the line of a document path. */
export interface ParsedRelup {
  file: string;
  data: unknown;
  /** The line (1-based) of the node at a path, or of its nearest ancestor in the file. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** Stage 1: YAML text → data. Syntax errors fail here, all of them, as BAD_RELUP. */
export function parseRelup(source: string, file: string): ParsedRelup {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0)
    throw badRelup(
      doc.errors.map((e) => ({
        file,
        path: '',
        reason: e.message,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    );
  return {
    file,
    data: doc.toJS(),
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node?.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}
