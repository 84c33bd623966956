import type { NatsConnection } from '@nats-io/nats-core';
import { decode } from '../../src/nats/codec.ts';

/** Where in an upgrade a fault lands; `steady` is under load with no upgrade. */
export const FAULT_POINTS = [
  'steady',
  'before-ponr',
  'in-hook',
  'in-pause',
  'after-pause',
  'before-permanent',
] as const;

/** One fault point. */
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** What each point is, for CHAOS.md. */
export const POINT_TEXT: Record<FaultPoint, string> = {
  steady: 'under load, no upgrade running',
  'before-ponr': 'inside a sleep step before the point of no return',
  'in-hook': 'inside the before-hook (a sleep after the point of no return, before the suspension)',
  'in-pause': 'inside the pause: a sleep step while channels and acceptors are suspended',
  'after-pause': 'inside the after-hook, once everything resumed',
  'before-permanent': 'after the upgrade finished, before make_permanent',
};

interface NodeEvent {
  type: string;
  state?: string;
  step?: string;
  cmd?: string;
}

/**
 * Follows a node's events on `relup.evt.<node>` and resolves when the upgrade reaches `point`:
 * the start of a sleep step in the phase the point names, or the upgrade command finishing.
 * Subscribed before the upgrade is sent, so no event is missed.
 */
export function watchPoint(
  nc: NatsConnection,
  node: string,
  point: Exclude<FaultPoint, 'steady'>,
): { reached: Promise<void>; cancel(): void } {
  let passedPonr = false;
  let suspended = false;
  let resumed = false;
  let resolve: () => void = () => {};
  const reached = new Promise<void>((r) => {
    resolve = r;
  });
  const at = (e: NodeEvent): boolean => {
    if (point === 'before-permanent') return e.type === 'command_finished' && e.cmd === 'upgrade';
    if (e.type === 'step_completed' && e.step === 'point_of_no_return') passedPonr = true;
    if (e.type === 'state' && e.state === 'suspending') suspended = true;
    if (e.type === 'step_completed' && e.step === 'resume_acceptors') resumed = true;
    if (e.type !== 'step_started' || !e.step?.startsWith('sleep')) return false;
    if (point === 'before-ponr') return !passedPonr;
    if (point === 'in-hook') return passedPonr && !suspended;
    if (point === 'in-pause') return suspended && !resumed;
    return resumed;
  };
  const sub = nc.subscribe(`relup.evt.${node}`, {
    callback: (err, msg) => {
      if (err) return;
      if (at(decode<NodeEvent>(msg.data))) {
        sub.unsubscribe();
        resolve();
      }
    },
  });
  return { reached, cancel: () => sub.unsubscribe() };
}
