import { z } from 'zod';
import { DEFAULT_SUSPEND_TIMEOUT_MS, parseDuration } from './duration.ts';

const name = z.string().min(1);
const mapping = z.record(z.string(), z.unknown());

/** A duration (`250ms`, `5s`, `2m`, or ms) read as milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `bad duration ${JSON.stringify(value)} (use e.g. 250ms, 5s, 2m, or a number of ms)`,
    });
    return z.NEVER;
  }
  return ms;
});

/** The top level of a relup file; entries are checked one by one by the validate stage. */
export const relupFileSchema = z.strictObject({
  release: name,
  from: name,
  to: name,
  up: z.array(z.unknown()),
  down: z
    .union([z.literal('auto'), z.array(z.unknown())], { error: 'must be "auto" or a list of entries' })
    .default('auto'),
  hooks: z
    .strictObject({ before: z.array(z.unknown()).default([]), after: z.array(z.unknown()).default([]) })
    .optional(),
  options: z
    .strictObject({
      suspendTimeout: durationSchema.default(DEFAULT_SUSPEND_TIMEOUT_MS),
      modifications: z.array(name).default(['standard']),
      pairs: z.enum(['switch_over', 'in_place']).default('switch_over'),
    })
    .default({
      suspendTimeout: DEFAULT_SUSPEND_TIMEOUT_MS,
      modifications: ['standard'],
      pairs: 'switch_over',
    }),
});

/** `- update: S` with optional `extra` for the service's codeChange. */
export const updateSchema = z.strictObject({ update: name, extra: mapping.default({}) });
/** `- add: S`. */
export const addSchema = z.strictObject({ add: name });
/** `- remove: S`. */
export const removeSchema = z.strictObject({ remove: name });
/** `- apply: { module, priority, args, down }`. */
export const applySchema = z.strictObject({
  apply: z.strictObject({
    module: name,
    priority: z.enum(['high', 'low']).default('high'),
    args: mapping.default({}),
    down: name.optional(),
  }),
});
/** `- { op, target, args }`: any registered instruction, written directly. */
export const stepSchema = z.strictObject({ op: name, target: name.optional(), args: mapping.default({}) });
