import { setTimeout as delay } from 'node:timers/promises';
import { RelupError } from '../errors.ts';
import type { MaintenanceReason } from './lifecycle.ts';
import type { RelupNode } from './relup-node.ts';

/** How to enter maintenance: the seed's notify → grace (with countdown) → notify → disconnect. */
export interface MaintenanceRequest {
  message?: string;
  /** How long clients have before they are disconnected (0: at once). */
  graceMs?: number;
  /** How often the countdown is pushed during the grace period. */
  tickMs?: number;
  /** When the maintenance is expected to end (ISO 8601), told to refused clients. */
  until?: string;
  reason?: MaintenanceReason;
  details?: unknown;
}

/** What entering maintenance did. */
export interface MaintenanceResult {
  state: string;
  notified: number;
  disconnected: number;
  stopped: string[];
}

const DEFAULT_MESSAGE = 'The service is going into maintenance.';

/** Pushes a notice to every session of every service; returns how many sessions got it. */
export function notifyClients(node: RelupNode, message: unknown): number {
  let n = 0;
  for (const host of node.services.values()) n += host.pushAll(message);
  return n;
}

/**
 * Waits a grace period, pushing `{ type: 'maintenance', phase: 'countdown', remainingMs }` to
 * every client at each tick (default: a quarter of the grace, at most 30 s); the signal cuts it short.
 */
export async function countdown(
  node: RelupNode,
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
      notifyClients(node, { type: 'maintenance', phase: 'countdown', message, remainingMs });
  }
}

/** Disconnects every session except super-admins' (by default) or the listed ones. */
export async function disconnectClients(
  node: RelupNode,
  opts: { reason?: string; keepSuperAdmins?: boolean; except?: string[] } = {},
): Promise<number> {
  const reason = opts.reason ?? 'disconnected by an operator';
  const counts = await Promise.all(
    [...node.services.values()].map((h) =>
      h.disconnectAll(reason, { superAdmins: opts.keepSuperAdmins ?? true, sessions: opts.except }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Enters maintenance mode: tells every client, counts the grace period down, tells them again,
 * disconnects everyone but super-admins, stops the services not required in maintenance, and
 * from then on refuses new sessions except super-admins'.
 */
export async function enterMaintenance(
  node: RelupNode,
  req: MaintenanceRequest = {},
): Promise<MaintenanceResult> {
  const message = req.message ?? DEFAULT_MESSAGE;
  const graceMs = req.graceMs ?? 0;
  if (!(graceMs >= 0)) throw new RelupError('BAD_OPTIONS', 'graceMs must be a number ≥ 0');
  const notified = notifyClients(node, {
    type: 'maintenance',
    phase: 'notice',
    message,
    graceMs,
    until: req.until,
  });
  await countdown(node, graceMs, message, req.tickMs);
  notifyClients(node, { type: 'maintenance', phase: 'now', message, until: req.until });
  node.lifecycle.send({
    type: 'MAINTENANCE_ON',
    entry: {
      reason: req.reason ?? 'manual',
      message,
      since: new Date().toISOString(),
      ...(req.until && { until: req.until }),
      ...(req.details !== undefined && { details: req.details }),
    },
  });
  const disconnected = await disconnectClients(node, {
    reason: `maintenance: ${message}`,
    keepSuperAdmins: true,
  });
  const stopped: string[] = [];
  for (const host of [...node.services.values()]) {
    if (host.def.requiredInMaintenance || node.allowedInMaintenance.has(`service:${host.name}`)) continue;
    node.held.set(host.name, host.def);
    await node.removeService(host.name);
    node.heldAcceptors.hold(host.name);
    stopped.push(host.name);
  }
  // The held acceptors' SUBs are at the server before we report: a connect now hears the reason.
  await node.nc.flush();
  node.log.warn({ reason: req.reason ?? 'manual', message, disconnected, stopped }, 'maintenance mode on');
  return { state: node.state, notified, disconnected, stopped };
}

/**
 * Clears one maintenance reason; when none is left the node is ready again and the services
 * maintenance stopped are started (except disabled or broken ones).
 */
export async function leaveMaintenance(
  node: RelupNode,
  reason: MaintenanceReason = 'manual',
): Promise<{ state: string; started: string[] }> {
  node.lifecycle.send({ type: 'MAINTENANCE_OFF', reason });
  const started: string[] = [];
  if (!node.isMaintenance()) {
    for (const [name, def] of [...node.held]) {
      if (node.disabled.has(name)) continue;
      node.held.delete(name);
      node.heldAcceptors.release(name);
      await node.addService(def);
      started.push(name);
    }
    node.log.info({ started }, 'maintenance mode off');
  }
  return { state: node.state, started };
}

/**
 * Disables a service (an operator's answer to a dependency error): it stays stopped, and when
 * no dependency error is left the node leaves that maintenance reason.
 */
export async function disableService(node: RelupNode, name: string): Promise<{ state: string }> {
  if (!node.services.has(name) && !node.broken.has(name) && !node.held.has(name))
    throw new RelupError('UNKNOWN_SERVICE', `service ${name} is not part of release ${node.release.version}`);
  node.disabled.add(name);
  node.held.delete(name);
  node.heldAcceptors.release(name);
  if (node.services.has(name)) await node.removeService(name);
  node.broken.delete(name);
  if (node.broken.size === 0) await leaveMaintenance(node, 'dependency_error');
  return { state: node.state };
}
