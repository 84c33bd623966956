import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { VersionedSnapshot } from '../actors/actor-host.ts';
import { decode, encode } from '../nats/codec.ts';
import { replicasFor } from '../nats/replicas.ts';
import { storeError } from '../nats/store-error.ts';

/** The JetStream KV bucket holding persisted channel sessions and named actors. */
export const SNAPSHOT_BUCKET = 'relup_snapshots';

/** A persisted channel session, under `ch.<node>.<service>.<session>`. */
export interface ChannelRecord {
  session: string;
  service: string;
  /** The node that wrote it (and hosted the session then). */
  node: string;
  /** The channel's input (what the acceptor made of the connect request). */
  input: Record<string, unknown>;
  /** A super-admin's proof (see SessionPolicy.proof): the session is restored as a super-admin's while it holds. */
  superAdminProof?: string;
  /** Written when the session was parked: nothing was journaled after it, a restore reads no journal. */
  final?: boolean;
  snapshot: VersionedSnapshot;
  /** The last journaled event the snapshot covers (durable services; absent: none). */
  journalSeq?: number;
  /** The term of the pair's active that wrote it (a redundant service): a higher term is the newer truth. */
  term?: number;
  /** When it was written (ms since the epoch). */
  at: number;
}

/** A persisted named actor, under `na.<name>`. */
export interface NamedRecord {
  name: string;
  /** The node that wrote it (its owner then). */
  node: string;
  snapshot: VersionedSnapshot;
  /** The last journaled event the snapshot covers (durable services; absent: none). */
  journalSeq?: number;
  /** Written when the actor was released: nothing was journaled after it, a claim reads no journal. */
  final?: boolean;
  /** The term of the pair's active that wrote it (a redundant service). */
  term?: number;
  at: number;
}

/** One run of a node, under `inc.<node>`: written at each boot, so the next boot knows a run came before. */
export interface Incarnation {
  node: string;
  /** 1 for the node id's first run, then one more per boot. */
  incarnation: number;
  /** When that run booted (ISO 8601). */
  bootedAt: string;
}

/** A record as read, with the KV revision a compare-and-set delete needs. */
export interface Stored<T> {
  key: string;
  revision: number;
  value: T;
}

/** The key of a channel session. */
export function channelKey(node: string, service: string, session: string): string {
  return `ch.${node}.${service}.${session}`;
}

/** The key of a named actor (`<service>.<kind>.<key>`). */
export function namedKey(name: string): string {
  return `na.${name}`;
}

/**
 * Snapshots in a JetStream KV bucket (history 1: only the latest state matters). Writes are
 * write-behind and unordered among themselves; a delete first waits for the writes issued
 * before it, so a flush in flight cannot bring back a session that was closed meanwhile.
 */
export class SnapshotStore {
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(private readonly kv: KV) {}

  /** Opens (creating when missing) the bucket, with `replicas` copies (default: what the server reports). */
  static async open(nc: NatsConnection, replicas?: number, bucket = SNAPSHOT_BUCKET): Promise<SnapshotStore> {
    try {
      return new SnapshotStore(
        await new Kvm(nc).create(bucket, { history: 1, replicas: replicasFor(nc, replicas) }),
      );
    } catch (err) {
      throw storeError(`cannot open KV bucket ${bucket}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }

  /** Writes a channel session. */
  putChannel(rec: ChannelRecord): Promise<void> {
    return this.write(channelKey(rec.node, rec.service, rec.session), rec);
  }

  /** Writes a named actor. */
  putNamed(rec: NamedRecord): Promise<void> {
    return this.write(namedKey(rec.name), rec);
  }

  /** Records a node's run; the previous run's record is replaced (history 1). */
  putIncarnation(rec: Incarnation): Promise<void> {
    return this.write(`inc.${rec.node}`, rec);
  }

  /** The last recorded run of a node, or undefined when it never ran against this store. */
  async incarnation(node: string): Promise<Incarnation | undefined> {
    return (await this.list<Incarnation>(`inc.${node}`))[0]?.value;
  }

  /** The sessions a node persisted for a service (`node` may be `*`: every node). */
  channels(node: string, service: string): Promise<Stored<ChannelRecord>[]> {
    return this.list<ChannelRecord>(`ch.${node}.${service}.*`);
  }

  /** A persisted session of a service, whichever node wrote it. */
  async findChannel(service: string, session: string): Promise<Stored<ChannelRecord> | undefined> {
    // One node writes a session at a time; should two records exist, the newest is the truth:
    // the one of the higher term (a redundant service), else the later write.
    return (await this.channelRecords(service, session)).sort(
      (a, b) => (b.value.term ?? 0) - (a.value.term ?? 0) || b.revision - a.revision,
    )[0];
  }

  /** Every node's record of one session (more than one only while a takeover is being noticed). */
  channelRecords(service: string, session: string): Promise<Stored<ChannelRecord>[]> {
    return this.list<ChannelRecord>(`ch.*.${service}.${session}`);
  }

  /** The persisted named actors of a service. */
  named(service: string): Promise<Stored<NamedRecord>[]> {
    return this.list<NamedRecord>(`na.${service}.>`);
  }

  /** A persisted named actor, or undefined. */
  async getNamed(name: string): Promise<Stored<NamedRecord> | undefined> {
    const key = namedKey(name);
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      throw storeError(`cannot read ${key}`, err, 'SNAPSHOT_STORE_FAILED');
    }
    return entry ? stored<NamedRecord>(entry) : undefined;
  }

  /**
   * Deletes a key once the writes issued before have landed. With `revision`, a compare-and-set:
   * false when the record changed or went meanwhile (someone else took it over).
   */
  async delete(key: string, revision?: number): Promise<boolean> {
    await this.settled();
    try {
      await this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
      return true;
    } catch (err) {
      if (revision !== undefined) return false;
      throw storeError(`cannot delete ${key}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }

  /** Resolves when every write issued so far has been acknowledged (or failed). */
  async settled(): Promise<void> {
    if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private write(key: string, value: unknown): Promise<void> {
    const p = this.kv.put(key, encode(value)).then(
      () => {},
      (err: unknown) => {
        throw storeError(`cannot write ${key}`, err, 'SNAPSHOT_STORE_FAILED');
      },
    );
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  /** Last values under a key filter: one ordered consumer, however many keys match. */
  private async list<T>(filter: string): Promise<Stored<T>[]> {
    const out: Stored<T>[] = [];
    try {
      // History 1 keeps one message per key, so its "history" is exactly the latest values.
      const it = await this.kv.history({ key: filter });
      for await (const entry of it) {
        const s = stored<T>(entry);
        if (s) out.push(s);
      }
    } catch (err) {
      throw storeError(`cannot list ${filter}`, err, 'SNAPSHOT_STORE_FAILED');
    }
    return out;
  }
}

function stored<T>(entry: KvEntry): Stored<T> | undefined {
  if (entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
  return { key: entry.key, revision: entry.revision, value: decode<T>(entry.value) };
}
