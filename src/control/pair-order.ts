import type { NodeStatus } from '../node/node-types.ts';

/**
 * The order a rolling upgrade takes nodes in: a node that is the active of a redundant pair
 * comes after every other, in the order given otherwise. The standby then runs the new release
 * before the active hands the service over to it (the switch_over step), so the pair changes
 * hands once per upgrade and never to a node about to be upgraded.
 */
export function standbysFirst<T extends Pick<NodeStatus, 'node' | 'redundancy'>>(nodes: readonly T[]): T[] {
  const active = (n: T) => n.redundancy?.some((p) => p.holder === n.node) === true;
  return [...nodes.filter((n) => !active(n)), ...nodes.filter(active)];
}
