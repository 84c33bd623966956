import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { NodeOptions } from '../../src/node/node-types.ts';
import { type RelupNode, startNode } from '../../src/node/relup-node.ts';

/** The example's releases folder. */
export const CHAT_RELEASES = fileURLToPath(new URL('../../examples/chat/releases', import.meta.url));

/** The repository's relups folder. */
export const RELUPS = fileURLToPath(new URL('../../relups', import.meta.url));

/** Starts a node of the chat example on a test server, with logs silenced. */
export function startChatNode(
  url: string,
  nodeId: string,
  extra: Partial<NodeOptions> = {},
): Promise<RelupNode> {
  return startNode({
    nats: url,
    nodeId,
    releasesDir: CHAT_RELEASES,
    relupsDir: RELUPS,
    release: '1.0.0',
    logger: pino({ level: 'silent' }),
    heartbeatMs: 200,
    ...extra,
  });
}
