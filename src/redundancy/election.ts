import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../nats/codec.ts';
import { type LeaseTiming, leaseTiming } from '../nats/lease-timing.ts';
import { replicasFor } from '../nats/replicas.ts';
import { guardStore } from '../nats/store-error.ts';
import { isCasConflict } from './cas-conflict.ts';
import type { Fence } from './fenced-kv.ts';
import {
  type HandOver,
  type PairRecord,
  pairKey,
  parsePairRecord,
  REDUNDANCY_BUCKET,
  type Scan,
} from './pair-record.ts';

/** What an election tells its node, in the order it happens. */
export type ElectionEvent =
  /** This node won the lease: it may act in `term` with the scan state it inherited. */
  | { type: 'elected'; term: number; scan: Scan; reason: HandOver; from: string | undefined }
  /** No renewal succeeded within the renew deadline: stop taking work now, the lease may be lost. */
  | { type: 'suspect'; term: number }
  /** A renewal succeeded again after `suspect`: nobody else wrote, the term still holds. */
  | { type: 'renewed'; term: number }
  /** Another node wrote the record: this node is no longer the holder. */
  | { type: 'lost'; term: number; by: string | undefined };

/** Where and how one node campaigns for one pair. */
export interface ElectionOptions {
  /** The redundant service (the record's key). */
  service: string;
  /** This node's id. */
  node: string;
  /** Whether this node is the pair's primary: only it may create the record at once. */
  primary: boolean;
  /** Lease timing (defaults: {@link leaseTiming}). */
  timing?: Partial<LeaseTiming>;
  /** How long the backup waits for the primary before creating a missing record, default the lease. */
  deployGraceMs?: number;
  /** The bucket, default {@link REDUNDANCY_BUCKET}. */
  bucket?: string;
  /** Bucket replicas (default: what the server reports). */
  replicas?: number;
  /** Called for every event, synchronously, in order. */
  onEvent: (e: ElectionEvent) => void;
}

/** A read-only view of an election, for status and fencing. */
export interface ElectionView {
  holding: boolean;
  term: number;
  /** The highest term this node has seen in the record. */
  highestTerm: number;
  /** The record as last seen. */
  record: PairRecord | undefined;
  revision: number;
}

/** Opens (creating when missing) the redundancy bucket: history 1 and, on purpose, no TTL. */
export async function openRedundancyBucket(
  nc: NatsConnection,
  replicas?: number,
  bucket = REDUNDANCY_BUCKET,
) {
  return guardStore(`cannot open KV bucket ${bucket}`, () =>
    new Kvm(nc).create(bucket, { history: 1, replicas: replicasFor(nc, replicas) }),
  );
}

/**
 * One node's campaign for one pair, by compare-and-set on the pair record's revision. Every
 * duration is measured on this node's monotonic clock; no node reads another's timestamps. A
 * holder renews every beat and may act only while a renewal it *sent* less than the renew
 * deadline ago succeeded ({@link canAct}); a partner takes over after seeing no new revision for
 * the lease, counted only while it is itself connected, so a NATS outage seen by both ends in a
 * renewal, not a failover.
 */
export class PairElection {
  private readonly key: string;
  private readonly timing: LeaseTiming;
  private readonly incarnation = randomUUID();
  private readonly startedAt = performance.now();
  private record: PairRecord | undefined;
  private revision = 0;
  private seenAt = performance.now();
  private highestTerm = 0;
  private holding = false;
  private suspect = false;
  private okSentAt = 0;
  private heldTerm = 0;
  private current: Promise<void> | undefined;
  private connected = true;
  private stopped = false;
  private beat: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private watchStop: (() => void) | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly opts: ElectionOptions,
  ) {
    this.key = pairKey(opts.service);
    this.timing = leaseTiming(opts.timing);
  }

  /** Opens the bucket and starts campaigning. */
  static async start(nc: NatsConnection, opts: ElectionOptions): Promise<PairElection> {
    const kv = await openRedundancyBucket(nc, opts.replicas, opts.bucket);
    const e = new PairElection(nc, kv, opts);
    await e.begin();
    return e;
  }

  /** The lease timing in force. */
  get leaseTiming(): LeaseTiming {
    return this.timing;
  }

  /** The election as this node sees it now. */
  view(): ElectionView {
    return {
      holding: this.holding,
      term: this.holding ? this.heldTerm : 0,
      highestTerm: this.highestTerm,
      record: this.record,
      revision: this.revision,
    };
  }

  /**
   * Whether this node may act as the active now: it holds the lease and a renewal it sent less
   * than the renew deadline ago succeeded. One clock read; call it before every piece of work.
   */
  canAct(): boolean {
    return this.holding && !this.stopped && performance.now() - this.okSentAt < this.timing.renewDeadlineMs;
  }

  /** The fencing token for the term this node holds now; undefined while it holds none. */
  fence(): Fence | undefined {
    if (!this.holding) return undefined;
    const term = this.heldTerm;
    return {
      service: this.opts.service,
      term,
      holder: this.opts.node,
      // Bound to the term: a later term of this same node does not revive an old token.
      canAct: () => this.heldTerm === term && this.canAct(),
    };
  }

  /**
   * Gives the lease up on purpose (forced failover, graceful shutdown): a compare-and-set to
   * `released` that keeps the term and records the scan state the partner inherits. The partner
   * takes over at once; this node does not campaign again for a lease. False when the lease was
   * already lost.
   */
  async release(scan: Scan, reason: HandOver): Promise<boolean> {
    await this.current;
    if (!this.holding || !this.record) return false;
    this.holding = false;
    this.clearDeadline();
    const rec: PairRecord = { ...this.record, state: 'released', scan, reason, at: Date.now() };
    try {
      this.adopt(
        rec,
        await this.kv.update(this.key, encode(rec), this.revision, this.timing.renewDeadlineMs),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Stops campaigning and renewing (without releasing: a partner takes over after the lease). */
  stop(): void {
    this.stopped = true;
    this.holding = false;
    if (this.beat) clearInterval(this.beat);
    this.clearDeadline();
    this.watchStop?.();
  }

  private async begin(): Promise<void> {
    await this.refresh();
    const w = await this.kv.watch({ key: this.key });
    this.watchStop = () => w.stop();
    void (async () => {
      for await (const entry of w) if (!this.stopped) this.observe(entry);
    })().catch(() => {});
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.connected = false;
        else if (s.type === 'reconnect') {
          this.connected = true;
          // Silence is only evidence while this node could have heard: count the lease anew.
          this.seenAt = performance.now();
          this.tick();
        }
      }
    })().catch(() => {});
    this.beat = setInterval(() => this.tick(), this.timing.beatMs);
    this.tick();
  }

  private observe(entry: KvEntry): void {
    if (entry.revision <= this.revision) return;
    if (entry.operation !== 'PUT') {
      // A deleted or purged record restarts the pair: the term lives on in highestTerm.
      this.record = undefined;
      this.revision = entry.revision;
      this.seenAt = performance.now();
      if (this.holding) this.lose(undefined);
      return;
    }
    let rec: PairRecord;
    try {
      rec = parsePairRecord(decode(entry.value));
    } catch {
      return;
    }
    const mine = rec.holder === this.opts.node && rec.incarnation === this.incarnation;
    this.adopt(rec, entry.revision);
    if (this.holding && !mine) this.lose(rec.holder);
    // A release is an invitation: campaign now, not at the next beat.
    else if (!this.holding && rec.state === 'released' && !mine) this.tick();
  }

  private adopt(rec: PairRecord, revision: number): void {
    if (revision <= this.revision) return;
    this.record = rec;
    this.revision = revision;
    this.seenAt = performance.now();
    this.highestTerm = Math.max(this.highestTerm, rec.term);
  }

  private async refresh(): Promise<boolean> {
    try {
      const entry = await this.kv.get(this.key);
      if (entry) this.observe(entry);
      return true;
    } catch {
      // Unreachable now: the next beat tries again.
      return false;
    }
  }

  private tick(): void {
    if (this.stopped || this.current) return;
    if (!this.connected) {
      this.seenAt = performance.now();
      return;
    }
    if (this.holding) void this.run(() => this.renew());
    else void this.run(() => this.campaign());
  }

  private async run(step: () => Promise<void>): Promise<void> {
    const p = step().finally(() => {
      this.current = undefined;
    });
    this.current = p;
    await p;
  }

  private async renew(): Promise<void> {
    const rec = this.record;
    if (!rec) return;
    const sentAt = performance.now();
    const next: PairRecord = { ...rec, at: Date.now() };
    try {
      const rev = await this.kv.update(this.key, encode(next), this.revision, this.timing.renewDeadlineMs);
      if (!this.holding) return;
      this.adopt(next, rev);
      this.okSentAt = sentAt;
      this.armDeadline();
      if (this.suspect && this.canAct()) {
        this.suspect = false;
        this.opts.onEvent({ type: 'renewed', term: this.heldTerm });
      }
    } catch (err) {
      if (isCasConflict(err) && this.holding) {
        await this.refresh();
        if (this.holding) this.lose(this.record?.holder);
      }
    }
  }

  private async campaign(): Promise<void> {
    const now = performance.now();
    const rec = this.record;
    if (!rec || (rec.state === 'released' && rec.reason === 'undeploy')) {
      // A new (or undeployed) pair: the primary takes it at once, the backup after a grace.
      const grace = this.opts.deployGraceMs ?? this.timing.leaseMs;
      if (!this.opts.primary && now - this.startedAt < grace) return;
      await this.claim(rec, 'deploy', 'on');
      return;
    }
    // What this node released itself it takes back only after a lease of silence, like a failed holder's.
    const releasedByMe = rec.holder === this.opts.node && rec.incarnation === this.incarnation;
    if (rec.state === 'released' && !releasedByMe) {
      await this.claim(rec, rec.reason === 'failover' ? 'failover' : 'takeover', rec.scan);
      return;
    }
    if (now - this.seenAt < this.timing.leaseMs) return;
    // Silence is evidence only while the store answers this node: a store that cannot be read
    // (a JetStream leader election, a restart) could not take the holder's renewals either.
    if (!(await this.refresh())) {
      this.seenAt = performance.now();
      return;
    }
    if (performance.now() - this.seenAt >= this.timing.leaseMs) await this.claim(rec, 'takeover', rec.scan);
  }

  private async claim(prev: PairRecord | undefined, reason: HandOver, scan: Scan): Promise<void> {
    const term = Math.max(prev?.term ?? 0, this.highestTerm) + 1;
    const rec: PairRecord = {
      term,
      holder: this.opts.node,
      incarnation: this.incarnation,
      state: 'held',
      scan,
      reason,
      leaseMs: this.timing.leaseMs,
      at: Date.now(),
    };
    const sentAt = performance.now();
    try {
      const rev = prev
        ? await this.kv.update(this.key, encode(rec), this.revision, this.timing.renewDeadlineMs)
        : await this.kv.create(this.key, encode(rec));
      if (this.stopped) return;
      this.adopt(rec, rev);
      this.holding = true;
      this.heldTerm = term;
      this.suspect = false;
      this.okSentAt = sentAt;
      this.armDeadline();
      this.opts.onEvent({ type: 'elected', term, scan: rec.scan, reason, from: prev?.holder });
    } catch (err) {
      // A lost race costs nothing: read who won and keep watching. A store that did not take
      // the write could not take the holder's renewals either: the silence starts again.
      if (isCasConflict(err)) await this.refresh();
      else this.seenAt = performance.now();
    }
  }

  private lose(by: string | undefined): void {
    const term = this.heldTerm;
    this.holding = false;
    this.suspect = false;
    this.clearDeadline();
    this.opts.onEvent({ type: 'lost', term, by });
  }

  private armDeadline(): void {
    this.clearDeadline();
    const left = this.okSentAt + this.timing.renewDeadlineMs - performance.now();
    this.deadline = setTimeout(() => this.expire(), Math.max(0, left));
  }

  private expire(): void {
    if (!this.holding || this.suspect) return;
    // A timer may fire a little early: check the clock, not the timer.
    if (this.canAct()) {
      this.armDeadline();
      return;
    }
    this.suspect = true;
    this.opts.onEvent({ type: 'suspect', term: this.heldTerm });
  }

  private clearDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
  }
}
