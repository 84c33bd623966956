/** The subjects of one cluster-wide upgrade barrier. */
export interface BarrierSubjects {
  /** Nodes publish `{ node, ready: true }` here when they reach the point of no return. */
  ready: string;
  /** The coordinator publishes here (any payload) to let every waiting node pass. */
  go: string;
  /** The coordinator publishes here (optionally `{ reason }`) to abort the upgrade on every node. */
  abort: string;
}

/** What a node publishes on `ready`. */
export interface BarrierReady {
  node: string;
  ready: true;
}

/** What the coordinator may publish on `abort`. */
export interface BarrierAbort {
  reason?: string;
}

/** The barrier subjects for a barrier id, shared by the nodes and the coordinator: `<prefix>.barrier.<id>.{ready,go,abort}`. */
export function barrierSubjects(prefix: string, id: string): BarrierSubjects {
  const base = `${prefix}.barrier.${id}`;
  return { ready: `${base}.ready`, go: `${base}.go`, abort: `${base}.abort` };
}
