import {
  createInbox,
  type NatsConnection,
  PermissionViolationError,
  type Subscription,
} from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { RelupError, renderError, toRelupError } from '../errors.ts';
import { decode } from '../nats/codec.ts';
import { respondOk } from '../nats/reply.ts';
import { subjects } from '../nats/subjects.ts';
import type { NodeStatus } from '../node/node-types.ts';
import { ENGINE_VERSION } from '../release/engine-version.ts';
import type { NodeApi } from './node-api.ts';

/** One node's answer on `relup.discover`: its status, plus where to reach it. */
export interface DiscoveredNode extends NodeStatus {
  /** The engine version the node runs. */
  engine: string;
  /** Where to send it commands. */
  control: string;
  /** Where it publishes events. */
  events: string;
}

/** How long {@link discover} collects answers. */
export interface DiscoverOptions {
  /** Subject prefix, default `relup`. */
  prefix?: string;
  /** Stop once no answer came for this long after the last one, default 250 ms. */
  quietMs?: number;
  /** Stop after this long in any case, default 3000 ms (also the wait for a first answer). */
  maxWaitMs?: number;
  /** The inbox prefix the connection may subscribe to (see docker/nats-auth.conf), default `_INBOX`. */
  inboxPrefix?: string;
}

/** Answers `relup.discover` with the node's status, for as long as the subscription lives. */
export function serveDiscovery(node: NodeApi, log?: Logger): Subscription {
  return node.nc.subscribe(node.subjects.discover, {
    callback: (err, msg) => {
      if (err) return log?.warn({ error: renderError(err) }, 'discovery subscription failed');
      // The bare status (not a command reply): `nats req relup.discover ''` shows it as is.
      const reply: DiscoveredNode = {
        ...node.status(),
        engine: ENGINE_VERSION,
        control: node.subjects.control(node.id),
        events: node.subjects.events(node.id),
      };
      respondOk(msg, reply);
    },
  });
}

/**
 * Scatter-gather on `relup.discover`: every node answers with its status. Collects answers
 * until none came for `quietMs` (or `maxWaitMs` passed) and returns them sorted by node id;
 * no node at all returns `[]` at once (NATS answers "no responders"); answers this user may not
 * read (its inbox prefix refused by the server) reject with FORBIDDEN, never look like no node.
 */
export async function discover(nc: NatsConnection, opts: DiscoverOptions = {}): Promise<DiscoveredNode[]> {
  const quietMs = opts.quietMs ?? 250;
  const maxWaitMs = opts.maxWaitMs ?? 3000;
  const found = new Map<string, DiscoveredNode>();
  // A plain inbox rather than requestMany: its 'stall' strategy ignores the stall time when
  // the request is not multiplexed, and the quiet period here is the caller's to choose.
  const inbox = createInbox(opts.inboxPrefix);
  await new Promise<void>((resolve, reject) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = (err?: Error) => {
      clearTimeout(quiet);
      clearTimeout(overall);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const overall = setTimeout(finish, maxWaitMs);
    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        // The answers cannot reach us (the user may not subscribe to the inbox): an error, not "no node".
        if (err) return finish(inboxError(err, inbox));
        // "No responders": a status message with no body.
        if (msg.data.length === 0 && msg.headers?.code === 503) return finish();
        try {
          const body = decode<DiscoveredNode>(msg.data);
          if (body && typeof body === 'object' && typeof body.node === 'string') found.set(body.node, body);
        } catch {
          // An answer that is not ours: not a node of this protocol, ignore it.
        }
        clearTimeout(quiet);
        quiet = setTimeout(finish, quietMs);
      },
    });
    nc.publish(subjects(opts.prefix).discover, undefined, { reply: inbox });
  });
  return [...found.values()].sort((a, b) => a.node.localeCompare(b.node));
}

function inboxError(err: Error, inbox: string): RelupError {
  if (err instanceof PermissionViolationError)
    return new RelupError(
      'FORBIDDEN',
      `the NATS server does not let this user read discovery's answers on ${inbox} (is the inbox prefix one it may subscribe to?)`,
      { subject: inbox },
    );
  return toRelupError(err, 'NATS_UNAVAILABLE');
}
