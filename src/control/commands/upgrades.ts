import { defineCommand } from '../command-registry.ts';
import { upgradesArgs } from '../command-schema.ts';

/** `upgrades { limit? }`: the node's upgrade journal, newest first: finished reports and the one in flight. */
export const upgradesCommand = defineCommand('upgrades', upgradesArgs, async ({ node, args }) => {
  const history = await node.upgradeHistory();
  return { node: node.id, upgrades: history.slice(-(args.limit ?? 20)).reverse() };
});
