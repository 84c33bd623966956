import type { ActorHost } from './actor-host.ts';

/**
 * Every live actor of a node, by id and by group (a service's channels, a service's named
 * actors). The relup engine finds what to suspend here rather than by walking supervisors,
 * which is what made OTP miss processes not listed in child specs.
 */
export class ActorRegistry {
  private readonly byId = new Map<string, ActorHost>();
  private readonly groups = new Map<string, Map<string, ActorHost>>();

  /** Registers an actor in a group; it leaves the registry when it exits. */
  add(group: string, actor: ActorHost): void {
    this.byId.set(actor.id, actor);
    let g = this.groups.get(group);
    if (!g) {
      g = new Map();
      this.groups.set(group, g);
    }
    g.set(actor.id, actor);
  }

  /** Removes an actor (on exit). */
  remove(group: string, id: string): void {
    this.byId.delete(id);
    this.groups.get(group)?.delete(id);
  }

  /** The actor with that id, if live. */
  get(id: string): ActorHost | undefined {
    return this.byId.get(id);
  }

  /** The live actors of a group. */
  group(group: string): IterableIterator<ActorHost> {
    return (this.groups.get(group) ?? new Map<string, ActorHost>()).values();
  }

  /** The live actors of every group whose name starts with a prefix (e.g. `channel:`). */
  *matching(prefix: string): IterableIterator<ActorHost> {
    for (const [name, g] of this.groups) if (name.startsWith(prefix)) yield* g.values();
  }

  /** Counts per group, for status. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, g] of this.groups) out[name] = g.size;
    return out;
  }

  /** Total live actors. */
  get size(): number {
    return this.byId.size;
  }
}
