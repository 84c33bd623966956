import type { NatsConnection } from '@nats-io/nats-core';
import { nextMessage, type Reply, send } from '../control/control-helpers.ts';

/**
 * Sends an upgrade command (plain or signed) whose barrier is `barrier` and resolves once the
 * node reports ready there, so the upgrade is held; `reply` resolves when the upgrade ends.
 */
export async function holdAtBarrier(
  nc: NatsConnection,
  node: string,
  barrier: string,
  upgrade: unknown,
): Promise<{ reply: Promise<Reply> }> {
  const ready = await nextMessage(nc, `relup.barrier.${barrier}.ready`);
  const reply = send(nc, node, upgrade);
  await ready.message;
  return { reply };
}
