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

/** A token that is safe inside one subject level (no dots, wildcards or spaces). */
export function isSubjectToken(s: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(s);
}
