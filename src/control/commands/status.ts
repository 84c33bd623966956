import { defineCommand } from '../command-registry.ts';
import { noArgs } from '../command-schema.ts';

/** `status`: the node's status (release, services, actors, upgrade in flight, last upgrade). */
export const statusCommand = defineCommand('status', noArgs, ({ node }) => node.status());
