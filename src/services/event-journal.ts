import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { EventObject } from 'xstate';
import { decode, encode } from '../nats/codec.ts';
import { InboxRequester } from '../nats/inbox-requester.ts';
import { replicasFor } from '../nats/replicas.ts';
import { storeFailed } from './snapshot-store.ts';

/** The JetStream stream holding the events each durable actor accepted since its last snapshot. */
export const EVENT_STREAM = 'relup_events';

/** An event as journaled: its stream sequence, the logic version that accepted it, the event. */
export interface JournaledEvent {
  seq: number;
  version: string;
  event: EventObject;
}

/** How long an append may wait for its acknowledgement (a NATS outage shorter than this only delays replies). */
const APPEND_TIMEOUT_MS = 10_000;

/**
 * An append-only journal of the events durable actors accepted, one subject per actor
 * (`relup_events.<actor key>`), in one stream. An actor's state is its last snapshot (the
 * snapshot store) followed by its events with a higher sequence; a snapshot written makes the
 * events it covers removable (compaction), so the journal of an actor stays short.
 *
 * Appends from many actors share one connection and are acknowledged in batches by the server:
 * a reply waits for its own event's acknowledgement, not for the others'.
 */
export class EventJournal {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly appends: InboxRequester,
  ) {}

  /** Opens the stream, creating it when missing (file storage, `replicas` copies, default what the server reports). */
  static async open(nc: NatsConnection, replicas?: number): Promise<EventJournal> {
    try {
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(EVENT_STREAM);
      } catch {
        await jsm.streams.add({
          name: EVENT_STREAM,
          subjects: [`${EVENT_STREAM}.>`],
          storage: 'file',
          num_replicas: replicasFor(nc, replicas),
          // Retries of one append within two minutes are stored once.
          duplicate_window: 120_000_000_000,
        } as Parameters<typeof jsm.streams.add>[0]);
      }
      return new EventJournal(jetstream(nc), jsm, new InboxRequester(nc, APPEND_TIMEOUT_MS));
    } catch (err) {
      throw storeFailed(`cannot open stream ${EVENT_STREAM}`, err);
    }
  }

  /**
   * Appends an event; resolves with its sequence once the server has stored it. A plain publish
   * with a reply subject, answered by the stream with its acknowledgement: many appends in
   * flight share one inbox and go out in the same socket writes.
   */
  async append(key: string, version: string, event: EventObject): Promise<number> {
    let ack: { seq?: number; error?: { description?: string } };
    try {
      ack = decode(await this.appends.request(subject(key), encode({ v: version, e: event })));
    } catch (err) {
      throw storeFailed(`cannot append to the journal of ${key}`, err);
    }
    if (typeof ack.seq !== 'number')
      throw storeFailed(`cannot append to the journal of ${key}`, new Error(ack.error?.description ?? 'no acknowledgement'));
    return ack.seq;
  }

  /** The events of one actor with a sequence above `after`, in order. */
  async read(key: string, after = 0): Promise<JournaledEvent[]> {
    const subj = subject(key);
    try {
      const last = await this.jsm.streams.getMessage(EVENT_STREAM, { last_by_subj: subj }).catch(() => null);
      if (!last || last.seq <= after) return [];
      const consumer = await this.js.consumers.get(EVENT_STREAM, {
        filter_subjects: subj,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: after + 1,
      });
      const out: JournaledEvent[] = [];
      const messages = await consumer.consume();
      for await (const m of messages) {
        const body = decode<{ v: string; e: EventObject }>(m.data);
        out.push({ seq: m.seq, version: body.v, event: body.e });
        if (m.seq >= last.seq) break;
      }
      return out;
    } catch (err) {
      throw storeFailed(`cannot read the journal of ${key}`, err);
    }
  }

  /** Actor keys under a key prefix (e.g. `ch.chat`) that have events, with how many. */
  async keysWithEvents(prefix: string): Promise<Map<string, number>> {
    try {
      const info = await this.jsm.streams.info(EVENT_STREAM, { subjects_filter: `${subject(prefix)}.>` });
      const out = new Map<string, number>();
      const cut = EVENT_STREAM.length + 1;
      for (const [subj, n] of Object.entries(info.state.subjects ?? {})) out.set(subj.slice(cut), n);
      return out;
    } catch (err) {
      throw storeFailed(`cannot list the journals under ${prefix}`, err);
    }
  }

  /** Removes the events of an actor up to `through` (a snapshot now covers them). */
  async compact(key: string, through: number): Promise<void> {
    try {
      await this.jsm.streams.purge(EVENT_STREAM, { filter: subject(key), seq: through + 1 });
    } catch (err) {
      throw storeFailed(`cannot compact the journal of ${key}`, err);
    }
  }

  /** Removes every event of an actor (its state is deleted). */
  async remove(key: string): Promise<void> {
    try {
      await this.jsm.streams.purge(EVENT_STREAM, { filter: subject(key) });
    } catch (err) {
      throw storeFailed(`cannot remove the journal of ${key}`, err);
    }
  }
}

function subject(key: string): string {
  return `${EVENT_STREAM}.${key}`;
}
