import {
  CST,
  type Document,
  isAlias,
  isCollection,
  isNode,
  isPair,
  Lexer,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import { badRelup } from './problems.ts';

/** A relup file parsed from YAML, able to tell the line of a document path. */
export interface ParsedRelup {
  file: string;
  data: unknown;
  /** The line (1-based) of the node at a path, or of its nearest ancestor in the file. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * The most a relup file may hold, so any file the node accepts compiles in a few milliseconds.
 * The lexer checks all but `expandedNodes` before the YAML is parsed; that one before the data is built.
 */
export const RELUP_LIMITS = {
  /** Bytes of the file (UTF-8). */
  bytes: 64 * 1024,
  /** Lines of the file. */
  lines: 2_000,
  /** Nodes written in the file: scalars (keys and values), aliases, sequence items, collections. */
  nodes: 1_000,
  /**
   * Levels of nesting as the lexer sees them: a line's indentation, its block indicators (`-`, `?`,
   * `:`) and the flow collections open. At least the real depth in ordinary YAML, at least half of
   * it with unindented sequences, so nothing deep enough to exhaust the stack reaches the parser.
   */
  depth: 64,
  /** Nodes once every alias is expanded: bounds what validation walks, whatever aliases add up to. */
  expandedNodes: 10_000,
} as const;

/** Lexer tokens that each stand for one node, or open one. */
const NODE_TOKENS: ReadonlySet<string> = new Set([
  'scalar',
  'alias',
  'seq-item-ind',
  'explicit-key-ind',
  'map-value-ind',
  'flow-map-start',
  'flow-seq-start',
  'doc-start',
]);

/**
 * Stage 1: YAML text → data. Syntax errors fail here, all of them, as BAD_RELUP; so do a file
 * over {@link RELUP_LIMITS}, an alias that refers to a node containing it, and aliases that
 * expand the document beyond the limit.
 */
export function parseRelup(source: string, file: string): ParsedRelup {
  checkSize(source, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0)
    throw badRelup(
      doc.errors.map((e) => ({
        file,
        path: '',
        message: e.message,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    );
  checkAliases(doc, file, lineCounter);
  return {
    file,
    // checkAliases bounded the expansion and ruled out cycles: yaml's own alias count is not needed.
    data: doc.toJS({ maxAliasCount: -1 }),
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node?.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** The byte limit, then the line, depth and node limits, counted by the lexer up to the first excess. */
function checkSize(source: string, file: string): void {
  const tooBig = (reason: string, line?: number) =>
    badRelup([{ file, path: '', message: reason, ...(line === undefined ? {} : { line }) }]);
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > RELUP_LIMITS.bytes)
    throw tooBig(`the file has ${bytes} bytes; a relup file may have ${RELUP_LIMITS.bytes}`);
  let lines = 1;
  let nodes = 0;
  let indent = 0;
  let indicators = 0;
  let flow = 0;
  let lineStart = true;
  for (const token of new Lexer().lex(source)) {
    const type = CST.tokenType(token);
    if (type === 'newline') {
      if (++lines > RELUP_LIMITS.lines) throw tooBig(`the file has more than ${RELUP_LIMITS.lines} lines`);
      indent = 0;
      indicators = 0;
    } else if (type === 'space' && lineStart) indent = token.length;
    else if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    else if (
      flow === 0 &&
      (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')
    )
      indicators++;
    lineStart = type === 'newline';
    if (indent + indicators + flow > RELUP_LIMITS.depth)
      throw tooBig(`the file nests deeper than ${RELUP_LIMITS.depth} levels`, lines);
    if (type !== null && NODE_TOKENS.has(type) && ++nodes > RELUP_LIMITS.nodes)
      throw tooBig(`the file has more than ${RELUP_LIMITS.nodes} YAML nodes (keys, values, items)`, lines);
  }
}

/**
 * Walks the document counting nodes with every alias expanded (each collection counted once): an
 * alias inside the node it refers to is a recursive structure, and a count beyond
 * {@link RELUP_LIMITS} an alias bomb; either is reported at the line where it shows.
 */
function checkAliases(doc: Document, file: string, lineCounter: LineCounter): void {
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  const fail = (at: unknown, reason: string) => {
    const range = isNode(at) ? at.range : undefined;
    const line = range ? lineCounter.linePos(range[0]).line : undefined;
    return badRelup([{ file, path: '', message: reason, ...(line === undefined ? {} : { line }) }]);
  };
  const size = (node: unknown): number => {
    if (isPair(node)) return size(node.key) + size(node.value);
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target !== undefined && open.has(target))
        throw fail(node, `alias *${node.source} refers to a node that contains it (a recursive structure)`);
      return target === undefined ? 1 : size(target);
    }
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    open.add(node);
    let total = 1;
    for (const item of node.items) {
      total += size(item);
      if (total > RELUP_LIMITS.expandedNodes)
        throw fail(
          isPair(item) ? (item.value ?? item.key) : item,
          `aliases expand the file to more than ${RELUP_LIMITS.expandedNodes} nodes`,
        );
    }
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  size(doc.contents);
}
