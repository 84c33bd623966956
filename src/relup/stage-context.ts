import type { InstructionLookup } from './instruction.ts';
import type { ReleaseInfo } from './release-info.ts';
import type { RelupOptions } from './spec.ts';

/** What every compile stage after validation knows: one direction of one relup. */
export interface StageContext {
  release: string;
  direction: 'up' | 'down';
  /** The release the plan starts from (for a down plan, the relup's `to`). */
  from: ReleaseInfo;
  /** The release the plan arrives at. */
  to: ReleaseInfo;
  options: RelupOptions;
  /** The instructions the relup may use. */
  registry: InstructionLookup;
}
