import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { EventObject } from 'xstate';
import { decode, encode } from '../nats/codec.ts';
import { InboxRequester } from '../nats/inbox-requester.ts';
import { replicasFor } from '../nats/replicas.ts';
import { storeError } from '../nats/store-error.ts';

/** The JetStream stream holding the events durable actors accepted since their last snapshot. */
export const EVENT_STREAM = 'relup_events';

/** An event as journaled: its stream sequence, the logic version that accepted it, the event. */
export interface JournaledEvent {
  seq: number;
  version: string;
  event: EventObject;
}

/** How long an append may wait for its acknowledgement (a NATS outage shorter than this only delays replies). */
const APPEND_TIMEOUT_MS = 10_000;
/** Events per stored message at most (a message stays far below the server's payload limit). */
const BATCH_EVENTS = 256;
/** How long a read of another node's journal is reused for the next actor restored from it. */
const SCAN_REUSE_MS = 5000;

type Entry = [key: string, version: string, event: EventObject];

interface Waiting {
  resolve: (seq: number) => void;
  reject: (err: unknown) => void;
}

interface Scan {
  node: string;
  after: number;
  /** The node's last sequence when it was read: a scan is reused only while nothing was added since. */
  last: number;
  at: number;
  byKey: Map<string, JournaledEvent[]>;
}

/**
 * An append-only journal of the events durable actors accepted, in one stream with one subject
 * per node (`relup_events.<node>`). The events accepted in the same turn of the event loop, by
 * any actors of the node, are stored as one message: one store write and one acknowledgement
 * for all of them (group commit), and each reply waits for its own batch.
 *
 * An actor's state is its last snapshot (the snapshot store, which records the node that wrote
 * it and the stream sequence it covers) followed by its events after that sequence in that
 * node's journal: an actor that moves to another node writes a snapshot before it journals
 * anything there. A node drops its own journal below the oldest event any snapshot it knows of
 * does not cover yet (see compact); the journal of a node that is gone stays until it returns.
 */
export class EventJournal {
  private batch: Entry[] = [];
  private waiting: Waiting[] = [];
  private scheduled = false;
  private scan: Scan | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly appends: InboxRequester,
    /** The node that writes this journal. */
    readonly node: string,
  ) {}

  /** Opens the stream, creating it when missing: file storage, `replicas` copies (default what the server reports). */
  static async open(nc: NatsConnection, node: string, replicas?: number): Promise<EventJournal> {
    try {
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(EVENT_STREAM);
      } catch {
        await jsm.streams.add({
          name: EVENT_STREAM,
          subjects: [`${EVENT_STREAM}.>`],
          storage: StorageType.File,
          num_replicas: replicasFor(nc, replicas),
          allow_direct: true,
        });
      }
      return new EventJournal(jetstream(nc), jsm, new InboxRequester(nc, APPEND_TIMEOUT_MS), node);
    } catch (err) {
      throw storeError(`cannot open stream ${EVENT_STREAM}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }

  /** Appends an actor's event; resolves with the sequence of the message that stored it. */
  append(key: string, version: string, event: EventObject): Promise<number> {
    return new Promise((resolve, reject) => {
      this.batch.push([key, version, event]);
      this.waiting.push({ resolve, reject });
      if (this.batch.length >= BATCH_EVENTS) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // Everything the node accepts before it next waits for I/O goes into this message.
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    const waiting = this.waiting;
    this.batch = [];
    this.waiting = [];
    this.appends.request(subject(this.node), encode({ b: batch })).then(
      (data) => {
        const ack = decode<{ seq?: number; error?: { description?: string } }>(data);
        if (typeof ack.seq !== 'number') {
          const err = storeError(
            `cannot append to the journal of ${this.node}`,
            new Error(ack.error?.description ?? 'no acknowledgement'),
            'SNAPSHOT_STORE_FAILED',
          );
          for (const w of waiting) w.reject(err);
        } else for (const w of waiting) w.resolve(ack.seq);
      },
      (err: unknown) => {
        const failed = storeError(
          `cannot append to the journal of ${this.node}`,
          err,
          'SNAPSHOT_STORE_FAILED',
        );
        for (const w of waiting) w.reject(failed);
      },
    );
  }

  /**
   * The events of one actor in a node's journal after sequence `after`, in order. The read of a
   * node's journal is reused for a few seconds while that journal does not grow, so the actors
   * of a node that died, restored one after another, share one read.
   */
  async eventsOf(node: string, key: string, after: number): Promise<JournaledEvent[]> {
    const last = await this.lastSeq(node);
    if (last <= after) return [];
    const s = this.scan;
    const byKey =
      s && s.node === node && s.after <= after && s.last === last && Date.now() - s.at < SCAN_REUSE_MS
        ? s.byKey
        : await this.read(node, after);
    return (byKey.get(key) ?? []).filter((e) => e.seq > after);
  }

  /** Every event in a node's journal after sequence `after`, by actor key. */
  async read(node: string, after: number): Promise<Map<string, JournaledEvent[]>> {
    const subj = subject(node);
    const out = new Map<string, JournaledEvent[]>();
    try {
      const last = await this.lastSeq(node);
      if (last > after) {
        const consumer = await this.js.consumers.get(EVENT_STREAM, {
          filter_subjects: subj,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: after + 1,
        });
        const messages = await consumer.consume();
        for await (const m of messages) {
          for (const [key, version, event] of decode<{ b: Entry[] }>(m.data).b) {
            const list = out.get(key) ?? [];
            if (list.length === 0) out.set(key, list);
            list.push({ seq: m.seq, version, event });
          }
          if (m.seq >= last) break;
        }
      }
      this.scan = { node, after, last, at: Date.now(), byKey: out };
      return out;
    } catch (err) {
      throw storeError(`cannot read the journal of node ${node}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }

  /** The sequence of the last message in a node's journal (0: none). */
  private async lastSeq(node: string): Promise<number> {
    try {
      const last = await this.jsm.direct.getMessage(EVENT_STREAM, { last_by_subj: subject(node) });
      return last?.seq ?? 0;
    } catch {
      // The server answers "no message" for a subject with none.
      return 0;
    }
  }

  /** Drops this node's journal below sequence `below` (every snapshot that matters covers it). */
  async compact(below: number): Promise<void> {
    try {
      await this.jsm.streams.purge(EVENT_STREAM, { filter: subject(this.node), seq: below });
    } catch (err) {
      throw storeError(`cannot compact the journal of node ${this.node}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }

  /** The sequence the next stored message will get. */
  async nextSeq(): Promise<number> {
    try {
      return (await this.jsm.streams.info(EVENT_STREAM)).state.last_seq + 1;
    } catch (err) {
      throw storeError(`cannot read stream ${EVENT_STREAM}`, err, 'SNAPSHOT_STORE_FAILED');
    }
  }
}

function subject(node: string): string {
  return `${EVENT_STREAM}.${node}`;
}
