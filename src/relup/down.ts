import type { Plan } from './instruction.ts';
import type { Registry } from './registry.ts';
import type { Entry } from './spec.ts';
import { makeStep } from './step.ts';

/**
 * `down: auto`: the up entries reversed, each replaced by its inverse — update by update (the
 * pipeline then loads the old version and migrates down), add by remove and back, apply by its
 * `down` module (or a note that nothing undoes it), a low-level step by its instruction's inverse.
 */
export function invertEntries(entries: readonly Entry[], up: Plan, registry: Registry): Entry[] {
  return entries.toReversed().flatMap((entry) => invertEntry(entry, up, registry));
}

function invertEntry(entry: Entry, up: Plan, registry: Registry): Entry[] {
  const origin = `auto(${entry.origin})`;
  switch (entry.kind) {
    case 'update':
      return [{ ...entry, origin }];
    case 'add':
      return [{ kind: 'remove', service: entry.service, origin }];
    case 'remove':
      return [{ kind: 'add', service: entry.service, origin }];
    case 'apply': {
      const { module, down, priority, args } = entry;
      if (down === undefined)
        return [
          {
            kind: 'step',
            op: 'info',
            args: { message: `apply ${module} has no down module: nothing reverses it` },
            origin,
          },
        ];
      return [{ kind: 'apply', module: down, down: module, priority, args, origin }];
    }
    case 'step': {
      const inverse = registry.getInstruction(entry.op)?.inverse?.(makeStep(entry), up);
      if (!inverse) return [];
      const { op, target, args } = inverse;
      return [{ kind: 'step', op, target, args, origin }];
    }
  }
}
