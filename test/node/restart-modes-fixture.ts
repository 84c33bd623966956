import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import type { ReleaseService } from '../../src/release/manifest.ts';
import type { ReleaseSandbox } from '../helpers/release-sandbox.ts';

/** Derives chat `version` from 1.0.0 with the given `restart` field in its manifest, sealed. */
export async function deriveWithRestart(
  sandbox: ReleaseSandbox,
  version: string,
  restart: ReleaseService['restart'] | undefined,
): Promise<void> {
  await sandbox.derive('1.0.0', version);
  await sandbox.editManifest(version, (m) => {
    for (const s of m.services) s.restart = restart;
  });
}

/** Pushes a client received, with a way to await one that matches. */
export class Pushes {
  readonly got: Record<string, unknown>[] = [];
  private waiters: {
    match: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];

  /** The onPush callback of a session. */
  readonly onPush = (m: Record<string, unknown>): void => {
    this.got.push(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  };

  /** Resolves with the first push (already received or to come) that matches. */
  next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.got.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

/** A raw connect request with a payload (e.g. `{ session }` to resume); resolves with the reply body. */
export async function connect(
  nc: NatsConnection,
  payload: Record<string, unknown>,
  service = 'chat',
): Promise<Record<string, unknown>> {
  const msg = await nc.request(`relup.svc.${service}.connect`, encode(payload), { timeout: 5000 });
  return decode<Record<string, unknown>>(msg.data);
}

/** The context of a live channel actor of chat on a node, or undefined. */
export function channelContext(node: RelupNode, session: string): unknown {
  for (const actor of node.services.get('chat')?.channelActors() ?? [])
    if (actor.id === session) return actor.context;
  return undefined;
}

/** Dies without stopping: the connection closes first, so nothing is released or written any more. */
export async function crash(node: RelupNode): Promise<void> {
  await node.nc.close();
  await node.presence.stop();
}
