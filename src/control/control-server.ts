import type { Subscription } from '@nats-io/nats-core';
import { renderError } from '../errors.ts';
import { encode } from '../nats/codec.ts';
import { dispatchCommand } from './command-dispatch.ts';
import type { CommandRegistry } from './command-registry.ts';
import { defaultCommands } from './default-commands.ts';
import { serveDiscovery } from './discovery.ts';
import { createEventPublisher, type EventPublisher } from './event-publisher.ts';
import type { NodeApi } from './node-api.ts';
import { CommandVerifier } from './signature.ts';
import { EndpointStats, serveMicro } from './srv-endpoint.ts';

/** Options of the control server of a node. */
export interface ControlOptions {
  /**
   * Trusted operator public nkeys (U…, O… or A…). When set, every command must be signed by
   * one of them (see docs/protocol.md); when absent, commands are not signed and NATS
   * permissions are the only wall.
   */
  operatorKeys?: string[];
  /** How old a signed command may be, default 60 000 ms. */
  maxAgeMs?: number;
  /** How far in the future a signed command's issue time may be, default 5 000 ms. */
  clockSkewMs?: number;
  /** The commands to answer, default the shared registry (built-ins plus `registerCommand`). */
  commands?: CommandRegistry;
  /** Answer the `$SRV` micro-services discovery, default true. */
  microService?: boolean;
}

/** A running control server. */
export interface ControlServer {
  /** Stops answering; an upgrade waiting at a barrier aborts; resolves when running commands ended. */
  stop(): Promise<void>;
  /** The node's event publisher (`relup.evt.<node>`), for lifecycle events. */
  events: EventPublisher;
}

/**
 * Serves the operator protocol of a node: commands on `relup.ctl.<node>`, events on
 * `relup.evt.<node>`, discovery on `relup.discover` and `$SRV`. Commands run concurrently
 * (status answers while an upgrade runs); the node's upgrade lock keeps upgrades one at a time.
 */
export async function startControlServer(node: NodeApi, opts: ControlOptions = {}): Promise<ControlServer> {
  const verifier =
    opts.operatorKeys === undefined
      ? undefined
      : new CommandVerifier(node.id, opts.operatorKeys, {
          maxAgeMs: opts.maxAgeMs,
          clockSkewMs: opts.clockSkewMs,
        });
  const events = createEventPublisher(node.events, node.subjects.events(node.id), node.log);
  const stats = new EndpointStats();
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  const ctx = {
    node,
    commands: opts.commands ?? defaultCommands,
    verifier,
    events,
    prefix: prefixOf(node.subjects.discover),
    signal: stopping.signal,
  };

  const subs: Subscription[] = [
    node.nc.subscribe(node.subjects.control(node.id), {
      callback: (err, msg) => {
        if (err) return node.log.warn({ error: renderError(err) }, 'control subscription failed');
        const started = performance.now();
        const done = dispatchCommand(msg.data, ctx).then((reply) => {
          stats.record(
            performance.now() - started,
            reply.ok ? undefined : `${reply.error.code}: ${reply.error.message}`,
          );
          try {
            if (msg.reply) msg.respond(encode(reply));
          } catch (e) {
            node.log.warn({ id: reply.id, error: renderError(e) }, 'cannot send a command reply');
          }
        });
        running.add(done);
        void done.finally(() => running.delete(done));
      },
    }),
    serveDiscovery(node, node.log),
    ...(opts.microService === false ? [] : serveMicro(node, stats, node.log)),
  ];
  // Subscriptions are registered by the server when this resolves: a command sent right after
  // startControlServer returns is answered.
  await node.nc.flush();
  node.log.info({ node: node.id, signed: verifier !== undefined }, 'control server ready');

  let stopped: Promise<void> | undefined;
  return {
    events,
    stop() {
      stopped ??= (async () => {
        for (const sub of subs) sub.unsubscribe();
        // Once stop resolves the server has dropped the subscriptions: no command arrives any more.
        await node.nc.flush().catch(() => {});
        stopping.abort();
        await Promise.allSettled([...running]);
      })();
      return stopped;
    },
  };
}

/** The subject prefix, from a subject the node already has (`<prefix>.discover`). */
function prefixOf(discover: string): string {
  return discover.slice(0, discover.length - '.discover'.length);
}
