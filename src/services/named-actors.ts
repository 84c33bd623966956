import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { AnyActorLogic, EventObject } from 'xstate';
import { ActorHost, type EmitHandler, type StateRecorder } from '../actors/actor-host.ts';
import type { ActorRegistry } from '../actors/registry.ts';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { isNoResponders } from '../nats/no-responders.ts';
import type { PeerSeal } from '../nats/peer-seal.ts';
import { raiseIfError, respondError } from '../nats/reply.ts';
import type { Subjects } from '../nats/subjects.ts';
import { effectHandler } from './effects.ts';
import { namedJournalKey, type RecordWriter, recordEvent, writeSnapshot } from './kept-actor.ts';
import type { OwnershipFence } from './ownership-fence.ts';
import type { Presence } from './presence.ts';
import { requestEnvelope } from './request-envelope.ts';
import { type RestoredState, restoredNamed } from './snapshot-restore.ts';
import { namedKey } from './snapshot-store.ts';
import {
  neededFrom,
  needsSnapshot,
  type StatePersistence,
  type StoredMark,
  storedMark,
} from './state-persistence.ts';
import { actsAlone, fencedWrite, type TermGate, termHeaders, writeTerm } from './term-gate.ts';

/** Finds the logic and version for a named actor `<service>.<kind>.<key>`, or undefined. */
export type LogicResolver = (
  name: string,
) => { service: string; logic: AnyActorLogic; version: string } | undefined;

interface Owned extends StoredMark {
  actor: ActorHost;
  sub: Subscription;
  group: string;
  service: string;
}

const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){2}$/;

/** The service of a named actor `<service>.<kind>.<key>`. */
const serviceOf = (name: string): string => name.slice(0, name.indexOf('.'));

/**
 * Named actors, one live owner per name in the cluster: ownership is a KV entry taken with
 * compare-and-set, released on stop, and taken over when the owner's heartbeat has lapsed.
 * Callers on any node reach the owner on `<prefix>.actor.<name>`.
 */
export class NamedActors {
  private readonly owned = new Map<string, Owned>();
  /** One emit handler for every named actor of the node. */
  private readonly emit: EmitHandler;
  private readonly claiming = new Map<string, Promise<void>>();
  /** Keeps named actors' state across restarts (the node's restart modes); set by the node. */
  persistence: StatePersistence | undefined;
  /** Checks ownership again after this node's lease lapsed (see OwnershipFence); set by the node. */
  fence: OwnershipFence | undefined;
  /** Which services are redundant and whether this node acts for them now (see TermGate); set by the node. */
  terms: TermGate | undefined;
  /** Journals what a message changed in a durable named actor before its reply goes out. */
  private readonly record: StateRecorder = (actor, event) => {
    const p = this.persistence;
    const o = this.owned.get(actor.id);
    if (!p || !o || !isDurable(p, o.service)) return undefined;
    return recordEvent(p, namedJournalKey(actor.id), actor, o, event, this).then(async () => {
      // The lease lapsed while the event was being stored: the reply waits until ownership is
      // checked, and a name another node took over meanwhile acknowledges nothing.
      const fence = this.fence;
      if (!fence?.due()) return;
      await fence.pass();
      if (this.owned.get(actor.id)?.actor !== actor)
        throw new RelupError('SNAPSHOT_STORE_FAILED', `actor ${actor.id} was taken over while storing`, {
          name: actor.id,
        });
    });
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly subjects: Subjects,
    private readonly presence: Presence,
    private readonly registry: ActorRegistry,
    private readonly resolve: LogicResolver,
    private readonly timeoutMs = 5000,
    /** When set, only sealed messages (from nodes holding the cluster key) reach named actors. */
    private readonly seal?: PeerSeal,
  ) {
    this.emit = effectHandler(
      { nc, subjects, call: (n, e) => this.call(n, e), cast: (n, e) => this.cast(n, e) },
      false,
    );
  }

  /** Sends a request to the named actor wherever it lives, claiming it when nobody owns it. */
  async call<E extends EventObject>(name: string, event: E): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const local = this.owned.get(name);
      if (local && this.fence?.due()) {
        await this.fence.pass();
        continue;
      }
      if (local) return local.actor.ask(event);
      // The active of a redundant service owns its actors: it claims them, whoever held them last.
      if (attempt === 0 && actsAlone(this.terms, serviceOf(name))) {
        await this.ensure(name);
        if (this.owned.has(name)) continue;
      }
      try {
        const subject = this.subjects.actor(name);
        const data = encode(event);
        const msg = await this.nc.request(subject, data, {
          timeout: this.timeoutMs,
          ...(this.seal && { headers: this.seal.headers(subject, data) }),
        });
        return raiseIfError(decode(msg.data));
      } catch (err) {
        if (!ownerGone(err)) {
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

  /**
   * Drops the owned actors of a redundant service without writing their state: another node
   * acts for it in a newer term, so these copies are stale. An ownership entry that still
   * names this node is deleted (compare-and-set), so the active can claim the name.
   */
  async discardService(service: string): Promise<void> {
    for (const [name, o] of [...this.owned]) {
      if (o.service !== service) continue;
      this.owned.delete(name);
      o.sub.unsubscribe();
      this.registry.remove(o.group, o.actor.id);
      o.actor.kill();
      const entry = await this.kv.get(name).catch(() => null);
      if (entry?.operation === 'PUT' && entry.value.length > 0)
        if (decode<{ node: string }>(entry.value).node === this.presence.node)
          await this.kv.delete(name, { previousSeq: entry.revision }).catch(() => {});
    }
  }

  /** Kept actors that changed since their last write, for the node's flush (lazily: it bounds its writes). */
  *dirtyActors(): Generator<string> {
    const p = this.persistence;
    if (!p) return;
    const now = Date.now();
    for (const [name, o] of this.owned)
      if (p.keeps(o.service, 'service') && needsSnapshot(o.actor, o, p.durability(o.service), now))
        yield name;
  }

  /** Writes a named actor's snapshot now. */
  persistActor(name: string): Promise<void> {
    const o = this.owned.get(name);
    const p = this.persistence;
    return o && p ? this.persist(p, name, o) : Promise.resolve();
  }

  /**
   * Drops, without persisting or releasing anything, the owned names whose ownership entry no
   * longer names this node: another node took them over while this node's lease had lapsed,
   * and its copy is the live one (see OwnershipFence).
   */
  async dropTakenOver(): Promise<void> {
    for (const [name, o] of [...this.owned]) {
      const entry = await this.kv.get(name);
      const owner =
        entry?.operation === 'PUT' && entry.value.length > 0
          ? decode<{ node: string }>(entry.value).node
          : undefined;
      if (owner === this.presence.node) continue;
      this.owned.delete(name);
      o.sub.unsubscribe();
      this.registry.remove(o.group, o.actor.id);
      o.actor.kill();
      this.persistence?.warn('a named actor was taken over by another node', { name, owner });
    }
  }

  /** The node that owns a name now, per the ownership entry (it may have died since: see Presence). */
  async ownerOf(name: string): Promise<string | undefined> {
    const entry = await this.kv.get(name);
    return entry && entry.operation === 'PUT' && entry.value.length > 0
      ? decode<{ node: string }>(entry.value).node
      : undefined;
  }

  /**
   * Deletes the ownership entries this node left behind for a service (a run that died or was
   * killed): while this node id is alive again, such an entry blocks every other claimer.
   */
  async releaseLeftovers(service: string): Promise<number> {
    const stale: { key: string; revision: number }[] = [];
    for await (const e of await this.kv.history({ key: `${service}.>` })) {
      if (e.operation !== 'PUT' || e.value.length === 0) continue;
      if (this.owned.has(e.key) || this.claiming.has(e.key)) continue;
      if (decode<{ node: string }>(e.value).node === this.presence.node)
        stale.push({ key: e.key, revision: e.revision });
    }
    await Promise.all(stale.map((e) => this.kv.delete(e.key, { previousSeq: e.revision }).catch(() => {})));
    return stale.length;
  }

  /** `final`: the actor is being released, nothing will be journaled after this record. */
  private persist(p: StatePersistence, name: string, o: Owned, final = false): Promise<void> {
    return writeSnapshot(o.actor, o, this.recordWriter(p, name, final));
  }

  /** How a named actor's record is written (see RecordHost). */
  writer(p: StatePersistence, name: string): RecordWriter {
    return this.recordWriter(p, name, false);
  }

  /** Journal sequences this node's named actors still need (see neededFrom). */
  *neededJournal(): Generator<number> {
    for (const o of this.owned.values()) {
      const from = neededFrom(o);
      if (from !== undefined) yield from;
    }
  }

  private recordWriter(p: StatePersistence, name: string, final: boolean): RecordWriter {
    return (snapshot, journalSeq) => {
      const service = serviceOf(name);
      const term = writeTerm(this.terms, service);
      if (term === null) return Promise.reject(fencedWrite(service, { name }));
      return p.store.putNamed({
        name,
        node: p.node,
        snapshot,
        journalSeq,
        ...(final && { final }),
        ...(term !== undefined && { term }),
        at: Date.now(),
      });
    };
  }

  /** `ended`: the actor finished, so the next claim starts it afresh, not from its record. */
  private async release(name: string, ended = false): Promise<void> {
    const o = this.owned.get(name);
    if (!o) return;
    this.owned.delete(name);
    // Drain: requests already routed here are answered NO_RESPONDERS (see deliver), so callers
    // claim the name anew instead of waiting for a timeout.
    void o.sub.drain().catch(() => {});
    await o.actor.stop();
    this.registry.remove(o.group, o.actor.id);
    const p = this.persistence;
    if (p?.keeps(o.service, 'service')) {
      // Written before the name is free, so the next owner (on any node) restores this state.
      if (ended) await p.store.delete(namedKey(name)).catch(() => {});
      else
        await this.persist(p, name, o, true).catch((err: unknown) =>
          p.warn('a named actor was not persisted on release', { name, error: String(err) }),
        );
    }
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
    let found = this.resolve(name);
    if (!found) throw new RelupError('UNKNOWN_ACTOR', `no service provides actor ${name}`, { name });
    const record = encode({ node: this.presence.node, at: Date.now() });
    try {
      await this.kv.create(name, record);
    } catch {
      const entry = await this.kv.get(name);
      if (entry && entry.operation === 'PUT' && entry.value.length > 0) {
        const owner = decode<{ node: string }>(entry.value).node;
        // A live owner keeps its name, unless it is the other node of a redundant service's pair:
        // only the active may act for that service, so it takes the name over.
        if (
          owner !== this.presence.node &&
          !actsAlone(this.terms, found.service) &&
          (await this.presence.isAlive(owner))
        )
          return;
      }
      try {
        await this.kv.update(name, record, entry?.revision ?? 0);
      } catch {
        return; // someone else took it over first
      }
    }
    const group = `actor:${found.service}`;
    // Subscribed as soon as the name is won, as without persistence: reading the snapshot takes a
    // round trip, and callers on other nodes must not see "no responders" meanwhile (they would
    // back off and retry). What arrives before the actor exists waits here, in order.
    let actor: ActorHost | undefined;
    const early: Msg[] = [];
    const sub = this.nc.subscribe(this.subjects.actor(name), {
      callback: (err, msg) => {
        // A subscription error (e.g. a permission violation) closes it; there is no message to answer.
        if (err) return;
        if (actor) this.deliver(actor, msg);
        else early.push(msg);
      },
    });
    let restored: RestoredState | undefined;
    try {
      restored = await this.restored(name, found.service, found.version);
      // The service's code may have switched while the state was read (an upgrade's `load`
      // step, or its undo on a rollback): the actor is built with the code current now, on
      // state rebuilt for exactly that code. Logic of one version over another's state fails
      // at the next message, and a failed actor's record is deleted (see release).
      for (let again = 0; again < 3; again++) {
        const now = this.resolve(name);
        if (!now || now.version === found.version) break;
        found = now;
        restored = await this.restored(name, found.service, found.version);
      }
      // A stored state that does not restore is kept and the claim fails: never a fresh actor over it.
      actor = new ActorHost({
        id: name,
        logic: found.logic,
        version: found.version,
        input: { name },
        snapshot: restored?.snapshot,
        onEmit: this.emit,
        record: this.persistence ? this.record : undefined,
      });
    } catch (err) {
      sub.unsubscribe();
      for (const msg of early.splice(0)) respondError(msg, err);
      await this.kv.delete(name).catch(() => {});
      this.persistence?.warn('a named actor was not started: its stored state cannot be restored', {
        name,
        error: (err as Error).message,
      });
      throw err;
    }
    const started = actor;
    this.owned.set(name, {
      actor: started,
      sub,
      group,
      service: found.service,
      ...storedMark(
        started,
        restored?.current === true,
        restored?.storedVersion ?? found.version,
        restored?.journaled,
        restored?.covered,
        restored?.pending,
      ),
    });
    this.registry.add(group, started);
    for (const msg of early.splice(0)) this.deliver(started, msg);
    // An actor that ends gives its name up, so the next call claims it again. One that finished
    // (a final state) starts afresh; one that failed restarts from its last stored state: the
    // message that failed it changed nothing, and what was acknowledged before must not be lost.
    void started.exited.then((reason) => {
      if (this.owned.get(name)?.actor === started) void this.release(name, reason === 'normal');
    });
  }

  /** The persisted state a claimed actor starts from (brought to `version`), if its service keeps state. */
  private restored(name: string, service: string, version: string): Promise<RestoredState | undefined> {
    const p = this.persistence;
    if (!p) return Promise.resolve(undefined);
    return restoredNamed(p, name, service, name.split('.')[1] ?? '', version);
  }

  private deliver(actor: ActorHost, msg: Msg): void {
    // A redundant service's actor answers only from its active: a deposed copy stays silent.
    const term = termHeaders(this.terms, this.owned.get(actor.id)?.service ?? '');
    if (term === null) return;
    const fence = this.fence;
    if (fence?.due()) {
      // The new owner, if any, got this message too: a name no longer ours stays silent here (an
      // answer would make the caller send it again). Unchecked, it is refused, not served.
      fence.pass().then(
        () => {
          const now = this.owned.get(actor.id);
          if (now) this.deliver(now.actor, msg);
        },
        (err: unknown) => respondError(msg, err),
      );
      return;
    }
    if (actor.status === 'stopped' || actor.status === 'failed') {
      respondError(msg, new RelupError('NO_RESPONDERS', `actor ${actor.id} was released`));
      return;
    }
    // Only nodes reach named actors: a client's message would skip its channel's checks.
    if (this.seal && !this.seal.verify(msg)) {
      respondError(msg, new RelupError('FORBIDDEN', `only nodes may send to actor ${actor.id}`));
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
    actor.enqueue(requestEnvelope(event, msg, undefined, term));
  }
}

/** No owner answered: NATS found no subscriber, or a released owner said so (see deliver). */
function ownerGone(err: unknown): boolean {
  return err instanceof RelupError ? err.code === 'NO_RESPONDERS' : isNoResponders(err);
}

/** True when the service's named actors are kept in durable mode: replies wait for the store. */
function isDurable(p: StatePersistence, service: string): boolean {
  return p.keeps(service, 'service') && p.durability(service) === 'durable';
}
