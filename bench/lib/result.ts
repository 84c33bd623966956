import { median, type Spread, spread } from './stats.ts';

/** A target: what the ratio (or the value itself) must reach. */
export interface Target {
  /** What the target constrains: the ratio value/baseline, or the value alone. */
  on: 'ratio' | 'value';
  op: '>=' | '<=' | '>' | '<';
  limit: number;
}

/** One figure as written to bench/results.json and BENCHMARKS.md. */
export interface BenchResult {
  /** Stable id, e.g. `throughput.oneway`. */
  name: string;
  /** What was measured, in words. */
  label: string;
  /** Median of the runs. */
  value: number;
  unit: string;
  /** Lowest and highest run. */
  spread: Spread;
  runs: number;
  /** Median of the baseline's runs, measured in the same invocation, or null when there is none. */
  baseline: number | null;
  baselineLabel: string | null;
  baselineSpread: Spread | null;
  /** value / baseline, or null without a baseline. */
  ratio: number | null;
  /** The target in words (e.g. `ratio >= 0.70`), or null when the figure has none. */
  target: string | null;
  /** Whether the target was met; null when there is no target. */
  met: boolean | null;
  /** Anything a reader needs to read the figure right. */
  note?: string;
}

/** What a benchmark measured for one figure: the raw runs of the figure and of its baseline. */
export interface FigureInput {
  name: string;
  label: string;
  unit: string;
  runs: readonly number[];
  baselineLabel?: string;
  baselineRuns?: readonly number[];
  target?: Target;
  note?: string;
}

/** Builds a result from the runs: medians, spreads, ratio and whether the target was met. */
export function figure(f: FigureInput): BenchResult {
  const value = median(f.runs);
  const hasBaseline = f.baselineRuns !== undefined && f.baselineRuns.length > 0;
  const baseline = hasBaseline ? median(f.baselineRuns ?? []) : null;
  const ratio = baseline !== null && baseline !== 0 ? value / baseline : null;
  let met: boolean | null = null;
  let target: string | null = null;
  if (f.target) {
    const t = f.target;
    target = `${t.on} ${t.op} ${t.limit}`;
    const x = t.on === 'ratio' ? ratio : value;
    met = x === null || Number.isNaN(x) ? false : compare(x, t.op, t.limit);
  }
  return {
    name: f.name,
    label: f.label,
    value,
    unit: f.unit,
    spread: spread(f.runs),
    runs: f.runs.length,
    baseline,
    baselineLabel: hasBaseline ? (f.baselineLabel ?? 'baseline') : null,
    baselineSpread: hasBaseline ? spread(f.baselineRuns ?? []) : null,
    ratio,
    target,
    met,
    ...(f.note !== undefined && { note: f.note }),
  };
}

function compare(x: number, op: Target['op'], limit: number): boolean {
  switch (op) {
    case '>=':
      return x >= limit;
    case '<=':
      return x <= limit;
    case '>':
      return x > limit;
    case '<':
      return x < limit;
  }
}

/** What every benchmark module exports. */
export interface Bench {
  /** Short id, used by `--only`. */
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

/** What the runner hands each benchmark. */
export interface BenchContext {
  quick: boolean;
  /** Runs per figure (median and spread are taken over them). */
  runs: number;
  /** Progress output (stderr), never part of the results. */
  log(line: string): void;
  /** Free-form lines the benchmark wants under its section in BENCHMARKS.md (setup, method). */
  notes: string[];
}
