import { RelupError } from '../errors.ts';
/** Subject names in one place, so the wire format documented in the README has one source. */
export interface Subjects {
  /** Connect requests of a service's acceptors (queue group per service). */
  connect(service: string): string;
  /** Client → channel actor. */
  session(session: string): string;
  /** Channel actor → client pushes. */
  push(session: string): string;
  /** A named actor, reachable from any node. */
  actor(name: string): string;
  /** Operator commands to one node. */
  control(node: string): string;
  /** Events of one node. */
  events(node: string): string;
  /** Discovery: every node answers with its status. */
  discover: string;
  /** The queue group of a service's acceptors. */
  queue(service: string): string;
  /** Connects a node that refuses them (maintenance) passes on to the nodes that admit everyone. */
  forwarded(service: string): string;
}

/** Builds the subject names under a prefix (default `relup`). */
export function subjects(prefix = 'relup'): Subjects {
  return {
    connect: (service) => `${prefix}.svc.${service}.connect`,
    session: (session) => `${prefix}.ses.${session}`,
    push: (session) => `${prefix}.ses.${session}.push`,
    actor: (name) => `${prefix}.actor.${name}`,
    control: (node) => `${prefix}.ctl.${node}`,
    events: (node) => `${prefix}.evt.${node}`,
    discover: `${prefix}.discover`,
    queue: (service) => `${prefix}.svc.${service}`,
    forwarded: (service) => `${prefix}.svc.${service}.forwarded`,
  };
}

/** The subject-token rule as error messages state it. */
export const SUBJECT_TOKEN_RULE = 'a subject-safe token ([A-Za-z0-9_-]+)';

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

/** A token that is safe inside one subject level (no dots, wildcards or spaces). */
export function isSubjectToken(s: unknown): s is string {
  return typeof s === 'string' && SUBJECT_TOKEN.test(s);
}

/** Throws NOT_SUBJECT_SAFE unless `value` is a subject-safe token; `what` names it (`node id`). */
export function assertSubjectToken(what: string, value: unknown): asserts value is string {
  if (!isSubjectToken(value))
    throw new RelupError(
      'NOT_SUBJECT_SAFE',
      `${what} ${JSON.stringify(value)} must be ${SUBJECT_TOKEN_RULE}`,
      {
        [what]: value,
      },
    );
}
