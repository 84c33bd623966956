import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { AnyActorLogic, EventObject } from 'xstate';
import { ActorHost } from '../actors/actor-host.ts';
import type { ActorRegistry } from '../actors/registry.ts';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { raiseIfError, respondError, respondOk } from '../nats/reply.ts';
import type { Subjects } from '../nats/subjects.ts';
import { effectHandler } from './effects.ts';
import type { Presence } from './presence.ts';

/** Finds the logic and version for a named actor `<service>.<kind>.<key>`, or undefined. */
export type LogicResolver = (
  name: string,
) => { service: string; logic: AnyActorLogic; version: string } | undefined;

interface Owned {
  actor: ActorHost;
  sub: Subscription;
  group: string;
}

const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){2}$/;

/**
 * Named actors, one live owner per name in the cluster: ownership is a KV entry taken with
 * compare-and-set, released on stop, and taken over when the owner's heartbeat has lapsed.
 * Callers on any node reach the owner on `<prefix>.actor.<name>`.
 */
export class NamedActors {
  private readonly owned = new Map<string, Owned>();
  private readonly claiming = new Map<string, Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly subjects: Subjects,
    private readonly presence: Presence,
    private readonly registry: ActorRegistry,
    private readonly resolve: LogicResolver,
    private readonly timeoutMs = 5000,
  ) {}

  /** Sends a request to the named actor wherever it lives, claiming it when nobody owns it. */
  async call<E extends EventObject>(name: string, event: E): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const local = this.owned.get(name);
      if (local) return local.actor.ask(event);
      try {
        const msg = await this.nc.request(this.subjects.actor(name), encode(event), {
          timeout: this.timeoutMs,
        });
        return raiseIfError(decode(msg.data));
      } catch (err) {
        if (!isNoResponders(err)) {
          if (err instanceof RelupError) throw err;
          throw new RelupError('TIMEOUT', `actor ${name} did not answer within ${this.timeoutMs} ms`, {
            name,
          });
        }
        if (attempt >= 50) throw new RelupError('UNKNOWN_ACTOR', `no live owner for actor ${name}`, { name });
        await this.ensure(name);
        // Another node won the claim and is subscribing: give its SUB time to reach the server.
        if (!this.owned.has(name)) await new Promise((r) => setTimeout(r, 5 * (attempt + 1)));
      }
    }
  }

  /** Sends without waiting for an answer. */
  cast<E extends EventObject>(name: string, event: E): void {
    this.call(name, event).catch(() => {});
  }

  /** The actors this node owns, by group (`actor:<service>`). */
  ownedBy(service: string): ActorHost[] {
    const out: ActorHost[] = [];
    for (const o of this.owned.values()) if (o.group === `actor:${service}`) out.push(o.actor);
    return out;
  }

  /** Names owned here. */
  names(): string[] {
    return [...this.owned.keys()];
  }

  /** Stops every owned actor and releases the names. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.owned.keys()].map((n) => this.release(n)));
  }

  /** Stops the owned actors of one service and releases their names. */
  async stopService(service: string): Promise<void> {
    const names = [...this.owned].filter(([, o]) => o.group === `actor:${service}`).map(([n]) => n);
    await Promise.all(names.map((n) => this.release(n)));
  }

  private async release(name: string): Promise<void> {
    const o = this.owned.get(name);
    if (!o) return;
    this.owned.delete(name);
    // Drain: requests already routed here are answered NO_RESPONDERS (see deliver), so callers
    // claim the name anew instead of waiting for a timeout.
    void o.sub.drain().catch(() => {});
    await o.actor.stop();
    this.registry.remove(o.group, o.actor.id);
    await this.kv.delete(name).catch(() => {});
  }

  /** Claims the name when it is free or its owner is gone; idempotent and single-flight. */
  private ensure(name: string): Promise<void> {
    let p = this.claiming.get(name);
    if (!p) {
      p = this.claim(name).finally(() => this.claiming.delete(name));
      this.claiming.set(name, p);
    }
    return p;
  }

  private async claim(name: string): Promise<void> {
    if (this.owned.has(name)) return;
    if (!NAME.test(name))
      throw new RelupError('UNKNOWN_ACTOR', `bad actor name ${name}: want <service>.<kind>.<key>`);
    const found = this.resolve(name);
    if (!found) throw new RelupError('UNKNOWN_ACTOR', `no service provides actor ${name}`, { name });
    const record = encode({ node: this.presence.node, at: Date.now() });
    try {
      await this.kv.create(name, record);
    } catch {
      const entry = await this.kv.get(name);
      if (entry && entry.operation === 'PUT' && entry.value.length > 0) {
        const owner = decode<{ node: string }>(entry.value).node;
        if (owner !== this.presence.node && (await this.presence.isAlive(owner))) return;
      }
      try {
        await this.kv.update(name, record, entry?.revision ?? 0);
      } catch {
        return; // someone else took it over first
      }
    }
    const group = `actor:${found.service}`;
    const actor = new ActorHost({
      id: name,
      logic: found.logic,
      version: found.version,
      input: { name },
      onEmit: effectHandler(
        {
          nc: this.nc,
          subjects: this.subjects,
          call: (n, e) => this.call(n, e),
          cast: (n, e) => this.cast(n, e),
        },
        undefined,
      ),
    });
    const sub = this.nc.subscribe(this.subjects.actor(name), {
      callback: (_err, msg) => this.deliver(actor, msg),
    });
    this.owned.set(name, { actor, sub, group });
    this.registry.add(group, actor);
    // A failed actor gives its name up, so the next call starts it afresh (temporary restart).
    void actor.exited.then(() => {
      if (this.owned.get(name)?.actor === actor) void this.release(name);
    });
  }

  private deliver(actor: ActorHost, msg: Msg): void {
    if (actor.status === 'stopped' || actor.status === 'failed') {
      respondError(msg, new RelupError('NO_RESPONDERS', `actor ${actor.id} was released`));
      return;
    }
    let event: EventObject;
    try {
      event = decode<EventObject>(msg.data);
      if (!event || typeof event.type !== 'string')
        throw new RelupError('BAD_MESSAGE', 'an event needs a string type');
    } catch (err) {
      respondError(msg, err);
      return;
    }
    actor.enqueue({ event, reply: (body) => respondOk(msg, body), fail: (err) => respondError(msg, err) });
  }
}

function isNoResponders(err: unknown): boolean {
  if (err instanceof RelupError) return err.code === 'NO_RESPONDERS';
  const e = err as { code?: string; name?: string; message?: string; isNoResponders?: () => boolean };
  if (typeof e?.isNoResponders === 'function') return e.isNoResponders();
  return e?.code === '503' || /no responders/i.test(String(e?.message));
}
