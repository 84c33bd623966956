import type { MsgHdrs } from '@nats-io/nats-core';
import { RelupError } from '../errors.ts';
import { stampTerm, type TermStamp } from '../nats/term-header.ts';

/**
 * How the hosts of a node's services learn, per message, whether this node may act for a
 * redundant service and under which term. Only the active of a pair may act: its replies,
 * pushes and writes carry its term, and every other node holding the service's work (a fenced
 * or superseded active) stays silent, so receivers never see two answers or a stale one.
 */
export interface TermGate {
  /** Whether the service is redundant (its work is fenced by term); a plain service never asks. */
  guards(service: string): boolean;
  /** The term this node acts in for the service now; undefined while it may not act (standby, fenced, lease possibly lost). */
  stamp(service: string): TermStamp | undefined;
}

/** True while this node is the active of the redundant service `service` and may act for it. */
export function actsAlone(gate: TermGate | undefined, service: string): boolean {
  return gate?.guards(service) === true && gate.stamp(service) !== undefined;
}

/**
 * What this node's messages for `service` carry: undefined for a plain service; for a redundant
 * one the term headers while this node acts for it, null while it may not act (it then sends,
 * answers and writes nothing: the active does).
 */
export function termHeaders(gate: TermGate | undefined, service: string): MsgHdrs | null | undefined {
  if (!gate?.guards(service)) return undefined;
  const stamp = gate.stamp(service);
  return stamp ? stampTerm(stamp) : null;
}

/**
 * The term a record of `service` is written in: undefined for a plain service, null while this
 * node may not act for the redundant service (a deposed active never writes over the next one's state).
 */
export function writeTerm(gate: TermGate | undefined, service: string): number | null | undefined {
  if (!gate?.guards(service)) return undefined;
  return gate.stamp(service)?.term ?? null;
}

/** The refusal of a write attempted while this node may not act for a redundant service. */
export function fencedWrite(service: string, details: Record<string, unknown>): RelupError {
  return new RelupError('FENCED', `this node may not act for service ${service}: nothing is written`, {
    service,
    ...details,
  });
}
