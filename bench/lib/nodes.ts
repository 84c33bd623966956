import { fileURLToPath } from 'node:url';
import { nuid } from '@nats-io/nats-core';
import pino from 'pino';
import type { ActorHost } from '../../src/actors/actor-host.ts';
import { type RelupNode, startNode } from '../../src/node/relup-node.ts';
import { sealRelease } from '../../src/release/manifest.ts';
import type { ServiceHost } from '../../src/services/service-host.ts';

/** The chat example's releases. */
export const CHAT_RELEASES = fileURLToPath(new URL('../../examples/chat/releases', import.meta.url));
/** The benchmarks' echo release (bench/releases/echo). */
export const ECHO_RELEASES = fileURLToPath(new URL('../releases/echo', import.meta.url));
/** The durability benchmark's release (bench/releases/durable). */
export const DURABLE_RELEASES = fileURLToPath(new URL('../releases/durable', import.meta.url));
/** The repository's relups folder (relups/chat/1.0.0-1.1.0.yaml). */
export const RELUPS = fileURLToPath(new URL('../../relups', import.meta.url));

const sealed = new Set<string>();
const RELEASES = { chat: CHAT_RELEASES, echo: ECHO_RELEASES, durable: DURABLE_RELEASES };

/** Starts a node with logs silenced; the bench's own releases are (re-)sealed first, so edits to them load. */
export async function startBenchNode(
  url: string,
  nodeId: string,
  app: 'chat' | 'echo' | 'durable',
  release = '1.0.0',
): Promise<RelupNode> {
  if (app !== 'chat' && !sealed.has(app)) {
    await sealRelease(`${RELEASES[app]}/1.0.0`);
    sealed.add(app);
  }
  return startNode({
    nats: url,
    nodeId,
    releasesDir: RELEASES[app],
    release,
    relupsDir: RELUPS,
    logger: pino({ level: 'silent' }),
  });
}

/** The node's host of a service (throws when the service does not run). */
export function serviceOf(node: RelupNode, name: string): ServiceHost {
  const host = node.services.get(name);
  if (!host) throw new Error(`service ${name} does not run on ${node.id}`);
  return host;
}

/**
 * Opens `count` channels directly through the node's ServiceHost.openChannel (real actors with
 * real NATS subscriptions and nuid session ids, as admit makes them; the connect request/reply
 * is skipped), in batches, and waits until
 * each has finished its entry effects (for chat: joining its room, a named actor). Chat
 * channels are spread over `rooms` rooms: a room copies its member map on every join, so one
 * room of 100,000 members would measure the example's O(n²) joins, not the runtime.
 */
export async function openChannels(
  node: RelupNode,
  service: string,
  count: number,
  opts: { rooms?: number; batch?: number } = {},
): Promise<ActorHost[]> {
  const host = serviceOf(node, service);
  const rooms = opts.rooms ?? 1;
  const batch = opts.batch ?? 5000;
  const out: ActorHost[] = [];
  for (let i = 0; i < count; i += batch) {
    const started: ActorHost[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const session = nuid.next();
      started.push(host.openChannel(session, { user: `u${j}`, room: `r${j % rooms}` }));
    }
    await Promise.all(started.map((a) => a.whenIdle()));
    await node.nc.flush();
    out.push(...started);
  }
  return out;
}
