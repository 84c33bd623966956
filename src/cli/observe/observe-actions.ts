import { nuid } from '@nats-io/nats-core';
import { z } from 'zod';
import { clusterCheck } from '../../control/cluster-check.ts';
import { clusterUpgrade } from '../../control/cluster-upgrade.ts';
import { badCommand, tokenArg, versionArg } from '../../control/command-schema.ts';
import type { ControlClient } from '../../control/control-client.ts';
import { RelupError } from '../../errors.ts';

/**
 * An operator action from the page. `confirm: true` is the page's confirmation that the operator
 * agreed to what the dialog said; an action without it is refused, so nothing runs by accident.
 */
export const actionSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('check'),
    node: tokenArg.optional(),
    to: versionArg,
    confirm: z.literal(true),
  }),
  z.strictObject({
    action: z.literal('upgrade'),
    node: tokenArg.optional(),
    to: versionArg,
    mode: z.enum(['rolling', 'barrier']).default('rolling'),
    confirm: z.literal(true),
  }),
  z.strictObject({
    action: z.literal('make_permanent'),
    node: tokenArg,
    version: versionArg,
    confirm: z.literal(true),
  }),
  z.strictObject({
    action: z.literal('maintenance'),
    node: tokenArg,
    on: z.boolean(),
    message: z.string().min(1).max(1000).optional(),
    grace: z.string().max(16).optional(),
    confirm: z.literal(true),
  }),
]);

/** A checked action. */
export type Action = z.output<typeof actionSchema>;

/** Checks an action's body: BAD_COMMAND with the problems when it is not one. */
export function parseAction(body: unknown): Action {
  const parsed = actionSchema.safeParse(body);
  if (!parsed.success) throw badCommand(parsed.error);
  return parsed.data;
}

/**
 * Runs an action through the same signed command path as relupctl (the client signs when it has
 * a seed): one node with `node`, else the whole cluster as `relupctl … --all` does.
 */
export async function runAction(client: ControlClient, action: Action): Promise<unknown> {
  const timeoutMs = 120_000;
  switch (action.action) {
    case 'check':
      return action.node
        ? client.request(action.node, 'check', { to: action.to }, { timeoutMs })
        : clusterCheck(client, { to: action.to, timeoutMs });
    case 'upgrade':
      return action.node
        ? client.request(action.node, 'upgrade', { to: action.to, id: nuid.next() }, { timeoutMs })
        : clusterUpgrade(client, { to: action.to, mode: action.mode, timeoutMs });
    case 'make_permanent':
      return client.request(action.node, 'make_permanent', { version: action.version }, { timeoutMs });
    case 'maintenance':
      return client.request(
        action.node,
        'maintenance',
        action.on
          ? {
              on: true,
              ...(action.message !== undefined && { message: action.message }),
              ...(action.grace !== undefined && { grace: action.grace }),
            }
          : { on: false },
        { timeoutMs },
      );
    default:
      throw new RelupError('BAD_COMMAND', 'unknown action');
  }
}
