import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceHost } from '../../services/service-host.ts';
import type { DisconnectOptions } from '../node-types.ts';

/** The running service hosts whose sessions a broadcast reaches. */
export type HostList = () => Iterable<ServiceHost>;

/** Pushes a notice to every session of every service; returns how many sessions got it. */
export function notifyClients(hosts: HostList, message: unknown): number {
  let n = 0;
  for (const host of hosts()) n += host.pushAll(message);
  return n;
}

/**
 * Waits a grace period, pushing `{ type: 'maintenance', phase: 'countdown', remainingMs }` to
 * every client at each tick (default: a quarter of the grace, at most 30 s); the signal cuts it short.
 */
export async function countdown(
  hosts: HostList,
  graceMs: number,
  message: string,
  tickMs?: number,
  signal?: AbortSignal,
): Promise<void> {
  if (graceMs <= 0) return;
  const tick = Math.max(100, tickMs ?? Math.min(30_000, Math.ceil(graceMs / 4)));
  const end = Date.now() + graceMs;
  for (let left = graceMs; left > 0; left = end - Date.now()) {
    await delay(Math.min(tick, left), undefined, { signal });
    const remainingMs = Math.max(0, end - Date.now());
    if (remainingMs > 0)
      notifyClients(hosts, { type: 'maintenance', phase: 'countdown', message, remainingMs });
  }
}

/** Disconnects every session except super-admins' (by default) or the listed ones. */
export async function disconnectClients(hosts: HostList, opts: DisconnectOptions = {}): Promise<number> {
  const reason = opts.reason ?? 'disconnected by an operator';
  const counts = await Promise.all(
    [...hosts()].map((h) =>
      h.disconnectAll(reason, { superAdmins: opts.keepSuperAdmins ?? true, sessions: opts.except }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}
