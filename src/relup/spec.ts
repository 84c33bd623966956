/** One entry of a relup file's `up` or `down` list, validated; `origin` is its path (`up[2]`). */
export type Entry =
  | { kind: 'update'; service: string; extra: Record<string, unknown>; origin: string }
  | { kind: 'add'; service: string; origin: string }
  | { kind: 'remove'; service: string; origin: string }
  | {
      kind: 'apply';
      module: string;
      priority: 'high' | 'low';
      args: Record<string, unknown>;
      down?: string;
      origin: string;
    }
  /** A low-level instruction written directly. */
  | { kind: 'step'; op: string; target?: string; args: Record<string, unknown>; origin: string };

/** The `options` of a relup file, with defaults applied. */
export interface RelupOptions {
  suspendTimeoutMs: number;
  /** Names of registered modifications, applied in this order. */
  modifications: string[];
  /**
   * How a redundant service is upgraded: `switch_over` (each node hands the service to its
   * partner before its code changes, so the active is never the node being upgraded) or
   * `in_place` (the active's code changes where it runs, like any service's).
   */
  pairs: 'switch_over' | 'in_place';
}

/** A relup file after validation. */
export interface RelupSpec {
  file: string;
  release: string;
  from: string;
  to: string;
  up: Entry[];
  down: 'auto' | Entry[];
  /** Low-level steps run right after the point of no return and at the very end, both ways. */
  hooks: { before: StepEntry[]; after: StepEntry[] };
  options: RelupOptions;
}

/** A low-level instruction entry. */
export type StepEntry = Extract<Entry, { kind: 'step' }>;
