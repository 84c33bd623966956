import { type Msg, type MsgHdrs, type NatsConnection, nuid, type Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { EventObject } from 'xstate';
import { ActorHost, type EmitHandler, type StateRecorder } from '../actors/actor-host.ts';
import type { Child, ExitReason } from '../actors/child.ts';
import type { ActorRegistry } from '../actors/registry.ts';
import { RelupError } from '../errors.ts';
import { decode } from '../nats/codec.ts';
import { respondError, respondOk } from '../nats/reply.ts';
import type { Subjects } from '../nats/subjects.ts';
import { acceptedEvents } from './accepted-events.ts';
import { Acceptor } from './acceptor.ts';
import { forwardOrRefuse } from './connect-forwarding.ts';
import type { ServiceDefinition } from './define-service.ts';
import { effectHandler } from './effects.ts';
import { isHostEvent } from './host-events.ts';
import { channelJournalKey, type RecordWriter, recordEvent, writeSnapshot } from './kept-actor.ts';
import type { NamedActors } from './named-actors.ts';
import type { OwnershipFence } from './ownership-fence.ts';
import { requestEnvelope } from './request-envelope.ts';
import { ServiceStats } from './service-stats.ts';
import { RENEW, type SessionCredentials, type SessionIssuer } from './session-credentials.ts';
import type { SessionPolicy } from './session-policy.ts';
import { type RestoredState, resumeSession } from './snapshot-restore.ts';
import { type ChannelRecord, channelKey } from './snapshot-store.ts';
import {
  neededFrom,
  needsSnapshot,
  type StatePersistence,
  type StoredMark,
  storedMark,
} from './state-persistence.ts';
import { actsAlone, fencedWrite, type TermGate, termHeaders, writeTerm } from './term-gate.ts';

/** What a service host needs from its node. */
export interface ServiceHostDeps {
  nc: NatsConnection;
  subjects: Subjects;
  registry: ActorRegistry;
  named: NamedActors;
  log: Logger;
  /** Who may connect and stay connected (maintenance mode, super-admins); everyone when absent. */
  policy?: SessionPolicy;
  /** Keeps sessions across node restarts (the node's restart modes); nothing is persisted when absent. */
  persistence?: StatePersistence;
  /** Holds session messages after the node's lease lapsed until ownership is checked again. */
  fence?: OwnershipFence;
  /** Gives each session NATS credentials of its own (decentralized JWT auth); none when absent. */
  issuer?: SessionIssuer;
  /** Which services are redundant and whether this node acts for them now (see TermGate); every service is plain when absent. */
  terms?: TermGate;
}

interface ChannelEntry extends StoredMark {
  actor: ActorHost;
  sub: Subscription;
  /** A super-admin's proof (see SessionPolicy.proof): such sessions survive maintenance mode. */
  adminProof: string | undefined;
  /** The channel's input, kept only while its session is persisted (for the record). */
  input: Record<string, unknown> | undefined;
  /** The client's public key its session credentials are issued for (JWT auth), from the input. */
  clientKey: string | undefined;
}

/**
 * One service running on a node: its acceptor and one channel actor per client session.
 * Channels are temporary children: a channel that fails is not restarted; its client gets a
 * `closed` push with the reason and may connect again.
 */
export class ServiceHost implements Child {
  readonly acceptor: Acceptor;
  /** Resolves when the service has stopped: the service host is a supervisor's child. */
  readonly exited: Promise<ExitReason>;
  private readonly channels = new Map<string, ChannelEntry>();
  /**
   * The same live entries by their subscription's id, which every message carries: finding a
   * session this way skips decoding the subject and hashing the id (measured ~0.3 µs a message).
   * An entry is here only while it is its session's current one.
   */
  private readonly bySubscription = new Map<number, ChannelEntry>();
  /** Where the session id starts in a session subject. */
  private readonly sessionAt: number;
  /** Persisted sessions whose state this version cannot restore: kept in the store, answered with why. */
  private readonly refused = new Map<string, { sub: Subscription; error: RelupError }>();
  private readonly group: string;
  /** Shared by every channel of the service (per-channel closures cost ~1 KB each, measured). */
  private readonly emit: EmitHandler;
  private readonly onSessionMessage: (err: Error | null, msg: Msg) => void;
  /** Journals what a message changed in a durable session before its reply goes out. */
  private readonly record: StateRecorder = (actor, event) => {
    const p = this.deps.persistence;
    const entry = this.channels.get(actor.id);
    if (!p || !entry || !this.isDurable(p)) return undefined;
    return recordEvent(p, channelJournalKey(this.name, actor.id), actor, entry, event, this);
  };
  private readonly channelExit = (reason: ExitReason, actor: ActorHost): void => {
    if (reason !== 'normal' && reason !== 'shutdown')
      void this.closeChannel(
        actor.id,
        `channel failed: ${String((reason.error as Error)?.message ?? reason.error)}`,
      );
  };
  private exit!: (reason: ExitReason) => void;
  /** False until started: a service whose restart mode is `cleanup` waits for an explicit start. */
  started = false;
  /**
   * False while the host runs with its acceptor closed on purpose (a redundant service's standby):
   * the acceptor check of an upgrade then has nothing to check.
   */
  intakeOpen = false;
  /** Requests answered by the service's channels and their latency, for status. */
  readonly stats = new ServiceStats();

  constructor(
    public def: ServiceDefinition,
    private readonly deps: ServiceHostDeps,
  ) {
    this.group = `channel:${def.name}`;
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
    this.acceptor = new Acceptor(deps.nc, deps.subjects, def.name, (msg) => this.admit(msg));
    const { nc, subjects, named } = deps;
    this.emit = effectHandler(
      {
        nc,
        subjects,
        call: (n, e) => named.call(n, e),
        cast: (n, e) => named.cast(n, e),
        headers: () => this.termHeaders(),
      },
      true,
      (session, reason) => void this.closeChannel(session, reason),
    );
    this.sessionAt = subjects.session('').length;
    // One callback for every channel: the message says which subscription it came through.
    this.onSessionMessage = (err, msg) => {
      // A subscription error (e.g. a permission violation) closes it; there is no message.
      if (err) return;
      const fence = this.deps.fence;
      if (!fence?.due()) {
        this.deliver(msg);
        return;
      }
      // Another node may have taken the session over while this one was out of reach; once
      // ownership is checked, a session no longer here is answered as closed (the client
      // resumes it) and an unchecked one is refused, never served from a stale copy.
      fence.pass().then(
        () => this.deliver(msg),
        (err: unknown) => respondError(msg, err),
      );
    };
  }

  /** The service's name. */
  get name(): string {
    return this.def.name;
  }

  /** The version of the code running now. */
  get version(): string {
    return this.def.version;
  }

  /** Starts the service and, unless `acceptor` is false, takes connect requests (if it has channels). */
  start(acceptor = true): this {
    this.started = true;
    this.intakeOpen = acceptor;
    if (acceptor && this.def.channel) {
      // A node that refuses ordinary sessions now (maintenance) takes no connects passed on by others.
      this.acceptor.takeForwarded(this.deps.policy?.refusal() === undefined);
      this.acceptor.start();
    }
    return this;
  }

  /** Live channel actors. */
  channelActors(): IterableIterator<ActorHost> {
    return this.deps.registry.group(this.group);
  }

  /** Number of live sessions. */
  get sessionCount(): number {
    return this.channels.size;
  }

  /** Session ids, for operators and tests. */
  sessions(): string[] {
    return [...this.channels.keys()];
  }

  /**
   * Why some sessions could not be reached now: not registered as channel actors, a channel
   * stopped or failed, or its subscription closed. Empty when every session is reachable.
   */
  unreachableChannels(): string[] {
    const problems: string[] = [];
    const registered = new Set(this.deps.registry.group(this.group));
    for (const [session, entry] of this.channels) {
      if (!registered.has(entry.actor)) problems.push(`${this.name}: session ${session} is not registered`);
      else if (entry.actor.status === 'stopped' || entry.actor.status === 'failed')
        problems.push(`${this.name}: session ${session} is ${entry.actor.status}`);
      else if (entry.sub.isClosed()) problems.push(`${this.name}: session ${session} is not subscribed`);
    }
    if (registered.size !== this.channels.size)
      problems.push(`${this.name}: ${registered.size} channel actors for ${this.channels.size} sessions`);
    return problems;
  }

  /** A stored record's super-admin proof when this node's policy still honours it, else undefined. */
  honouredProof(rec: ChannelRecord): string | undefined {
    const proof = rec.superAdminProof;
    return proof !== undefined && this.deps.policy?.honours(proof, rec.session) ? proof : undefined;
  }

  /** True when the session is live here. */
  hasSession(session: string): boolean {
    return this.channels.has(session);
  }

  /** Opens a channel for a session (a new one, or a restored one with its state). */
  openChannel(
    session: string,
    input: Record<string, unknown>,
    restored?: RestoredState,
    adminProof?: string,
  ): ActorHost {
    const logic = this.def.channel;
    if (!logic) throw new RelupError('UNKNOWN_SERVICE', `service ${this.name} has no channels`);
    const { nc, subjects } = this.deps;
    const actor = new ActorHost({
      id: session,
      logic,
      version: this.def.version,
      input: { ...input, session },
      snapshot: restored?.snapshot,
      onEmit: this.emit,
      onExit: this.channelExit,
      suspendable: this.def.suspendableChannels !== false,
      record: this.deps.persistence ? this.record : undefined,
    });
    const sub = nc.subscribe(subjects.session(session), { callback: this.onSessionMessage });
    const kept = this.deps.persistence?.keeps(this.name, 'channels') === true;
    const replaced = this.channels.get(session);
    if (replaced) this.bySubscription.delete(replaced.sub.getID());
    const entry: ChannelEntry = {
      actor,
      sub,
      adminProof,
      input: kept ? input : undefined,
      clientKey: typeof input.clientKey === 'string' ? input.clientKey : undefined,
      // A restored record is in the store as it is (a different version makes the next write a snapshot).
      ...storedMark(
        actor,
        restored?.current === true,
        restored?.storedVersion ?? this.def.version,
        restored?.journaled,
        restored?.covered,
        restored?.pending,
      ),
    };
    this.channels.set(session, entry);
    this.bySubscription.set(sub.getID(), entry);
    this.deps.registry.add(this.group, actor);
    return actor;
  }

  /**
   * Answers a persisted session that cannot be restored with the reason, instead of letting it
   * look unknown; its stored state stays as it is for a release that can restore it.
   */
  refuseSession(session: string, err: unknown): void {
    if (this.refused.has(session) || this.channels.has(session)) return;
    const error = err instanceof RelupError ? err : new RelupError('STATE_NOT_MIGRATED', String(err));
    const sub = this.deps.nc.subscribe(this.deps.subjects.session(session), {
      callback: this.onSessionMessage,
    });
    this.refused.set(session, { sub, error });
  }

  /** Pushes a message to every session (operator notices, maintenance countdowns). */
  pushAll(message: unknown): number {
    const headers = this.termHeaders();
    if (headers === null) return 0;
    const payload = JSON.stringify(message);
    for (const session of this.channels.keys())
      this.deps.nc.publish(this.deps.subjects.push(session), payload, headers && { headers });
    return this.channels.size;
  }

  /** Ends every session but the kept ones (super-admins when `keepSuperAdmins`, or listed ids). */
  async disconnectAll(
    reason: string,
    keep: { superAdmins?: boolean; sessions?: string[] } = {},
  ): Promise<number> {
    const keepIds = new Set(keep.sessions ?? []);
    const ends = [...this.channels]
      .filter(([id, e]) => !keepIds.has(id) && !(keep.superAdmins && e.adminProof !== undefined))
      .map(([id]) => this.closeChannel(id, reason));
    await Promise.all(ends);
    return ends.length;
  }

  /** Ends a session: the actor stops, the client gets a `closed` push. */
  async closeChannel(session: string, reason: string): Promise<void> {
    const entry = this.channels.get(session);
    if (!entry) return;
    this.forget(session);
    // Drain, not unsubscribe: a request already routed to us still reaches deliver(), which
    // answers UNKNOWN_SESSION, instead of being dropped by the client and timing out.
    void entry.sub.drain().catch(() => {});
    this.deps.registry.remove(this.group, session);
    // The logic hears of the end (e.g. to leave a room) when it handles `session.closed`.
    if (entry.actor.status !== 'failed' && acceptedEvents(entry.actor.logic)?.has('session.closed') !== false)
      entry.actor.send({ type: 'session.closed', reason } as EventObject);
    await entry.actor.stop();
    // A closed session must not come back at the next restart.
    const p = this.deps.persistence;
    if (p?.keeps(this.name, 'channels'))
      await p.store.delete(channelKey(p.node, this.name, session)).catch((err: unknown) => {
        p.warn('a closed session was not deleted from the snapshot store', {
          session,
          error: String(err),
        });
      });
    this.notify(session, { type: 'closed', reason });
  }

  /**
   * Drops, without a notice, the sessions another node holds a record of: only a takeover writes
   * one there, so that node took the session over while this node's lease had lapsed and serves
   * it now (see OwnershipFence). This node's own record of it goes too, even when written after
   * the takeover, so no restore finds the stale copy.
   */
  async dropTakenOver(): Promise<void> {
    const p = this.deps.persistence;
    if (!p?.keeps(this.name, 'channels')) return;
    for (const session of [...this.channels.keys()]) {
      const records = await p.store.channelRecords(this.name, session);
      const other = records.find((r) => r.value.node !== p.node);
      if (!other) continue;
      this.deps.log.warn({ session, owner: other.value.node }, 'a session was taken over by another node');
      await this.discardChannel(session);
      await p.store.delete(channelKey(p.node, this.name, session));
    }
  }

  /** Ends a session that was never handed out: no notice to anyone, nothing stored to delete. */
  private async discardChannel(session: string): Promise<void> {
    const entry = this.channels.get(session);
    if (!entry) return;
    this.forget(session);
    entry.sub.unsubscribe();
    this.deps.registry.remove(this.group, session);
    entry.actor.kill();
  }

  /**
   * Writes a session's snapshot now (it was restored from another node's record, or is being
   * parked). The write-behind flush otherwise does it.
   */
  persistSession(session: string): Promise<void> {
    const entry = this.channels.get(session);
    if (!entry) return Promise.resolve();
    return this.writeSession(session, entry);
  }

  /** Kept sessions that changed since their last write, for the node's flush (lazily: it bounds its writes). */
  *dirtySessions(): Generator<string> {
    const p = this.deps.persistence;
    if (!p?.keeps(this.name, 'channels')) return;
    const durability = p.durability(this.name);
    const now = Date.now();
    for (const [session, entry] of this.channels)
      if (needsSnapshot(entry.actor, entry, durability, now)) yield session;
  }

  /** Journal sequences this service's sessions still need (see neededFrom). */
  *neededJournal(): Generator<number> {
    for (const entry of this.channels.values()) {
      const from = neededFrom(entry);
      if (from !== undefined) yield from;
    }
  }

  /** True when the service's sessions are kept in durable mode: replies wait for the store. */
  private isDurable(p: StatePersistence): boolean {
    return p.keeps(this.name, 'channels') && p.durability(this.name) === 'durable';
  }

  /** Writes a session's record; `final`: nothing is journaled after it (the session is parked). */
  private writeSession(session: string, entry: ChannelEntry, final = false): Promise<void> {
    const p = this.deps.persistence;
    if (!p) return Promise.resolve();
    return writeSnapshot(entry.actor, entry, this.writer(p, session, entry, final));
  }

  /** How a session's record is written (see RecordHost). */
  writer(p: StatePersistence, session: string, entry: ChannelEntry, final = false): RecordWriter {
    return (snapshot, journalSeq) => {
      const term = writeTerm(this.deps.terms, this.name);
      if (term === null) return Promise.reject(fencedWrite(this.name, { session }));
      return p.store.putChannel({
        session,
        service: this.name,
        node: p.node,
        input: entry.input ?? {},
        ...(entry.adminProof && { superAdminProof: entry.adminProof }),
        snapshot,
        journalSeq,
        ...(final && { final }),
        ...(term !== undefined && { term }),
        at: Date.now(),
      });
    };
  }

  /**
   * The node stops but the session goes on: the messages already routed here are handled, the
   * final state is persisted, and the client is told it may resume. The logic gets no
   * `session.closed` (a chat member stays in its room), and the record is kept.
   */
  private async parkChannel(session: string, reason: string): Promise<void> {
    const entry = this.channels.get(session);
    if (!entry) return;
    await entry.sub.drain().catch(() => {});
    await entry.actor.stop();
    if (entry.actor.status === 'stopped')
      await this.writeSession(session, entry, true).catch((err: unknown) =>
        this.deps.persistence?.warn('a parked session was not persisted: it is lost', {
          session,
          error: String(err),
        }),
      );
    this.forget(session);
    this.deps.registry.remove(this.group, session);
    this.notify(session, { type: 'closed', reason, resumable: true });
  }

  /** Tells a session's client that the session ended (stamped with the term while this node acts). */
  private notify(session: string, notice: { type: 'closed'; reason: string; resumable?: true }): void {
    const headers = this.termHeaders();
    this.deps.nc.publish(
      this.deps.subjects.push(session),
      JSON.stringify(notice),
      headers ? { headers } : undefined,
    );
  }

  /** Switches the definition used for new channels and named actors. */
  load(next: ServiceDefinition): void {
    this.def = next;
  }

  /**
   * Stops taking sessions, ends every channel gracefully (parks it when the node stops and keeps
   * sessions) and releases the service's named actors.
   */
  async stop(reason = 'service stopping'): Promise<void> {
    // A node stopping with restart mode `restart` for channels parks sessions instead of ending them.
    await this.letGo(reason, this.deps.persistence?.stopping === true);
    this.exit('shutdown');
  }

  /** True while only this node may serve the service: the active of its redundant pair, which may act now. */
  get servesAlone(): boolean {
    return actsAlone(this.deps.terms, this.name);
  }

  /** What this node's messages for the service carry now (see termHeaders). */
  termHeaders(): MsgHdrs | null | undefined {
    return termHeaders(this.deps.terms, this.name);
  }

  /**
   * Drops every session and named actor of the service held here without writing or telling
   * anyone: another node acts for the redundant service in a newer term, so what this node
   * holds is a stale copy that must neither answer nor be restored from.
   */
  async discard(): Promise<void> {
    await this.acceptor.stop();
    this.dropRefused();
    await Promise.all([...this.channels.keys()].map((s) => this.discardChannel(s)));
    await this.deps.named.discardService(this.name);
  }

  /** Opens the acceptor of a started host (a redundant service whose node becomes the active). */
  openIntake(): void {
    this.intakeOpen = true;
    if (!this.def.channel) return;
    this.acceptor.takeForwarded(this.deps.policy?.refusal() === undefined);
    this.acceptor.start();
  }

  /**
   * Hands the service's work over to another node and keeps the host: stops the acceptor, parks
   * every kept channel (persisted; its client is told it may resume, and the next node restores
   * it) and releases the named actors, so the next active claims and restores them.
   */
  handOver(reason: string): Promise<void> {
    this.intakeOpen = false;
    return this.letGo(reason, true);
  }

  /** Closes the acceptor at once (a redundant service's active that stops taking work). */
  holdIntake(): void {
    this.intakeOpen = false;
    void this.acceptor.stop();
  }

  private async letGo(reason: string, parkKept: boolean): Promise<void> {
    await this.acceptor.stop();
    this.dropRefused();
    const park = parkKept && this.deps.persistence?.keeps(this.name, 'channels') === true;
    await Promise.all(
      [...this.channels.keys()].map((s) =>
        park ? this.parkChannel(s, reason) : this.closeChannel(s, reason),
      ),
    );
    await this.deps.named.stopService(this.name);
  }

  /** Brutal kill: subscriptions end and actors are killed at once; clients hear nothing. */
  kill(): void {
    void this.acceptor.stop();
    this.dropRefused();
    for (const [session, entry] of this.channels) {
      entry.sub.unsubscribe();
      entry.actor.kill();
      this.deps.registry.remove(this.group, session);
    }
    this.channels.clear();
    this.bySubscription.clear();
    this.exit('shutdown');
  }

  private dropRefused(): void {
    for (const { sub } of this.refused.values()) sub.unsubscribe();
    this.refused.clear();
  }

  private admit(msg: Msg): void {
    try {
      const payload = decode<Record<string, unknown>>(msg.data);
      if (!payload || typeof payload !== 'object' || Array.isArray(payload))
        throw new RelupError('BAD_MESSAGE', 'a connect request must be a JSON object');
      const policy = this.deps.policy;
      policy?.admit(payload);
      // A reconnect with a session id resumes that session (see resumeSession).
      if (payload.session !== undefined) {
        const p = this.deps.persistence;
        if (!p)
          throw new RelupError('UNKNOWN_SESSION', `session ${String(payload.session)} is not live here`);
        resumeSession(this, p, payload.session, (session) => policy?.proof(payload, session))
          .then((body) => this.withCredentials(body.session, body, payload.key))
          .then(
            (body) => respondOk(msg, body, this.termHeaders() ?? undefined),
            (err: unknown) => respondError(msg, err),
          );
        return;
      }
      const clientKey = this.deps.issuer?.checkKey(payload.key);
      // The credential stays at the door: it never reaches the service or the actor's state.
      const { token: _token, key: _key, ...claims } = payload;
      let input: Record<string, unknown> = claims;
      if (this.def.accept) {
        try {
          input = this.def.accept(claims);
        } catch (err) {
          if (err instanceof RelupError) throw err;
          throw new RelupError('SESSION_REFUSED', (err as Error).message);
        }
      }
      // The key is bound to the session (and its record): a resume must present the same key.
      if (clientKey !== undefined) input = { ...input, clientKey };
      const session = nuid.next();
      this.openChannel(session, input, undefined, policy?.proof(payload, session));
      const p = this.deps.persistence;
      const entry = this.channels.get(session);
      // Durable: the session exists once its record is stored; a session that could not be stored is not handed out.
      const stored =
        !p || !entry || !this.isDurable(p) ? Promise.resolve() : this.writeSession(session, entry);
      stored
        .then(() => this.withCredentials(session, { ok: true, session }, clientKey))
        .then(
          (body) => respondOk(msg, body, this.termHeaders() ?? undefined),
          (err: unknown) => {
            void this.discardChannel(session);
            respondError(msg, err);
          },
        );
    } catch (err) {
      if (err instanceof RelupError && err.code === 'MAINTENANCE')
        forwardOrRefuse(this.deps.nc, this.deps.subjects, this.name, msg, err);
      else respondError(msg, err);
    }
  }

  /**
   * Adds the session's own NATS credentials to a connect reply when the node issues them: for
   * the key bound to the session only, so a client that learned another's session id cannot
   * get credentials for it. A session hosted on another node is answered without credentials.
   */
  private async withCredentials<B extends object>(
    session: string,
    body: B,
    key: unknown,
  ): Promise<B & { credentials?: SessionCredentials }> {
    const issuer = this.deps.issuer;
    const entry = this.channels.get(session);
    if (!issuer || !entry) return body;
    if (entry.clientKey === undefined || entry.clientKey !== key)
      throw new RelupError('SESSION_REFUSED', `session ${session} belongs to another key`, { session });
    return { ...body, credentials: await issuer.issue(session, entry.clientKey) };
  }

  /** Takes a session's entry out of both tables: its messages are answered as for a closed session. */
  private forget(session: string): void {
    const entry = this.channels.get(session);
    if (!entry) return;
    this.channels.delete(session);
    this.bySubscription.delete(entry.sub.getID());
  }

  private deliver(msg: Msg): void {
    // A redundant service answers only from its active: a fenced or superseded copy stays
    // silent, so the client hears the active (or nobody, and resumes) and never a stale state.
    const term = this.termHeaders();
    if (term === null) return;
    let entry = this.bySubscription.get(msg.sid);
    // The session is the last token of the subject, read only when the subscription is not a live channel's.
    const session = entry?.actor.id ?? msg.subject.slice(this.sessionAt);
    entry ??= this.channels.get(session);
    if (!entry) {
      respondError(
        msg,
        this.refused.get(session)?.error ?? new RelupError('UNKNOWN_SESSION', `session ${session} is closed`),
      );
      return;
    }
    // In maintenance, a session that is not a super-admin's is closed at its next message.
    const refused = entry.adminProof !== undefined ? undefined : this.deps.policy?.refusal();
    if (refused) {
      respondError(msg, refused);
      void this.closeChannel(session, refused.message);
      return;
    }
    let event: EventObject;
    try {
      event = decode<EventObject>(msg.data);
      if (!event || typeof event !== 'object' || typeof event.type !== 'string')
        throw new RelupError('BAD_MESSAGE', 'a session message must be a JSON object with a string "type"');
      if (event.type === 'close') {
        void this.closeChannel(session, 'closed by the client').then(() => respondOk(msg, { ok: true }));
        return;
      }
      // Only the session's own user may publish here (JWT auth): it gets fresh credentials.
      if (event.type === RENEW) {
        this.withCredentials(session, { ok: true }, entry.clientKey).then(
          (body) => respondOk(msg, body),
          (err: unknown) => respondError(msg, err),
        );
        return;
      }
      if (isHostEvent(event.type))
        throw new RelupError('BAD_MESSAGE', `${JSON.stringify(event.type)} is an event only the host sends`);
      // The service's declared client events, else every event the machine handles.
      const accepted = this.def.clientEvents ?? acceptedEvents(entry.actor.logic);
      if (accepted && !accepted.has(event.type))
        throw new RelupError('BAD_MESSAGE', `unknown message type ${JSON.stringify(event.type)}`, {
          accepted: [...accepted].filter((t) => !isHostEvent(t)),
        });
    } catch (err) {
      respondError(msg, err);
      return;
    }
    entry.actor.enqueue(requestEnvelope(event, msg, this.stats, term));
  }
}
