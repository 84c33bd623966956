import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { z } from 'zod';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { replicasFor } from '../nats/replicas.ts';
import { guardStore, storeError } from '../nats/store-error.ts';
import { assertSubjectToken } from '../nats/subjects.ts';
import { zodProblems } from '../problems.ts';
import { assertVersion } from './release-version.ts';

/** The actions a history entry can record. */
export const HISTORY_ACTIONS = [
  'installed',
  'upgraded',
  'downgraded',
  'made_permanent',
  'rolled_back',
  'aborted',
  'removed',
] as const;

/** What happened to a release on a node. */
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

/** One line of the release history. */
export interface HistoryEntry {
  /** ISO 8601. */
  time: string;
  node: string;
  action: HistoryAction;
  from?: string;
  to: string;
}

/** The permanent release: the one the cluster boots, with the KV revision to compare-and-set against. */
export interface PermanentRelease {
  version: string;
  revision: number;
}

/** The release store: current release per node, the permanent release and the history, in JetStream KV. */
export interface ReleaseStore {
  /** The release the node runs now, or undefined when it never reported one. */
  current(node: string): Promise<string | undefined>;
  setCurrent(node: string, version: string): Promise<void>;
  permanent(): Promise<PermanentRelease | undefined>;
  /**
   * Moves the permanent release; returns the new revision. With `expectedRevision` (0: there is
   * no permanent release yet) it is a compare-and-set that throws CONFLICT when the value moved.
   */
  makePermanent(version: string, expectedRevision?: number): Promise<number>;
  /** The history, oldest first. */
  history(): Promise<HistoryEntry[]>;
  /** Appends to the history (time defaults to now); concurrent writers lose nothing. */
  record(entry: Omit<HistoryEntry, 'time'> & { time?: string }): Promise<HistoryEntry>;
  /** The manual maintenance an operator turned on for a node, kept across its restarts. */
  manualMaintenance(node: string): Promise<ManualMaintenance | undefined>;
  /** Keeps (or, with undefined, forgets) a node's manual maintenance. */
  setManualMaintenance(node: string, entry: ManualMaintenance | undefined): Promise<void>;
}

/** A manual maintenance as kept: what clients are told, since when and until when. */
export interface ManualMaintenance {
  message: string;
  since: string;
  until?: string;
}

/** Where the store lives. */
export interface ReleaseStoreOptions {
  /** The KV bucket, default `relup_releases`. */
  bucket?: string;
  /** How many history entries are kept, default 200 (the oldest are dropped). */
  historyLimit?: number;
  /** Copies kept by JetStream, default what the server reports (see `replicasFor`); an existing bucket keeps its own. */
  replicas?: number;
}

const PERMANENT = 'permanent';
const HISTORY = 'history';
// Each failed compare-and-set means another writer succeeded, so this bounds only pathological
// contention, never a normal burst of writers.
const MAX_ATTEMPTS = 100;

const pointer = z.object({ version: z.string(), time: z.string() });
const manualSchema = z.object({ message: z.string(), since: z.string(), until: z.string().optional() });
const historySchema = z.array(
  z.object({
    time: z.string(),
    node: z.string(),
    action: z.enum(HISTORY_ACTIONS),
    from: z.string().optional(),
    to: z.string(),
  }),
);

/** Opens (creating when missing) the release store bucket. */
export async function openReleaseStore(
  nc: NatsConnection,
  opts: ReleaseStoreOptions = {},
): Promise<ReleaseStore> {
  const bucket = opts.bucket ?? 'relup_releases';
  const limit = opts.historyLimit ?? 200;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RelupError('BAD_OPTIONS', 'historyLimit must be a positive integer', { historyLimit: limit });
  const replicas = replicasFor(nc, opts.replicas);
  const kv = await guardStore(`release store: cannot open bucket ${bucket}`, () =>
    new Kvm(nc).create(bucket, { history: 5, replicas }),
  );

  async function read<T>(
    key: string,
    schema: z.ZodType<T>,
  ): Promise<{ value: T; revision: number } | undefined> {
    const entry = await guardStore(`release store: cannot read ${key}`, () => kv.get(key));
    if (entry?.operation !== 'PUT') return undefined;
    const parsed = schema.safeParse(decode(entry.value));
    if (!parsed.success)
      throw new RelupError('STORE_FAILED', `${bucket}/${key} holds an invalid value`, {
        key,
        problems: zodProblems(parsed.error),
      });
    return { value: parsed.data, revision: entry.revision };
  }

  async function permanent(): Promise<PermanentRelease | undefined> {
    const got = await read(PERMANENT, pointer);
    return got && { version: got.value.version, revision: got.revision };
  }

  return {
    permanent,

    async manualMaintenance(node) {
      return (await read(maintenanceKey(node), manualSchema))?.value;
    },

    async setManualMaintenance(node, entry) {
      const key = maintenanceKey(node);
      await guardStore(`release store: cannot write ${key}`, () =>
        (entry ? kv.put(key, encode(entry)) : kv.delete(key)).then(() => {}),
      );
    },

    async current(node) {
      return (await read(currentKey(node), pointer))?.value.version;
    },

    async setCurrent(node, version) {
      assertVersion(version);
      await guardStore(`release store: cannot write ${currentKey(node)}`, () =>
        kv.put(currentKey(node), encode({ version, time: new Date().toISOString() })),
      );
    },

    async makePermanent(version, expectedRevision) {
      assertVersion(version);
      const value = encode({ version, time: new Date().toISOString() });
      if (expectedRevision === undefined)
        return guardStore('release store: cannot write permanent', () => kv.put(PERMANENT, value));
      if (!Number.isInteger(expectedRevision) || expectedRevision < 0)
        throw new RelupError('BAD_OPTIONS', 'expectedRevision must be a revision (0: none yet)', {
          expectedRevision,
        });
      try {
        return await casWrite(kv, PERMANENT, value, expectedRevision);
      } catch (err) {
        if (!isCasConflict(err)) throw storeError('release store: cannot write permanent', err);
        const now = await permanent();
        throw new RelupError(
          'CONFLICT',
          `the permanent release moved: expected revision ${expectedRevision}, it is ${now?.revision ?? 'unset'}` +
            (now ? ` (${now.version})` : ''),
          { key: PERMANENT, expectedRevision, actual: now ?? null },
          { cause: err },
        );
      }
    },

    async history() {
      return (await read(HISTORY, historySchema))?.value ?? [];
    },

    async record(entry) {
      assertSubjectToken('node id', entry.node);
      const full: HistoryEntry = { ...entry, time: entry.time ?? new Date().toISOString() };
      for (let attempt = 1; ; attempt++) {
        const got = await read(HISTORY, historySchema);
        const next = [...(got?.value ?? []), full].slice(-limit);
        try {
          await casWrite(kv, HISTORY, encode(next), got?.revision ?? 0);
          return full;
        } catch (err) {
          if (!isCasConflict(err)) throw storeError('release store: cannot append to history', err);
          if (attempt >= MAX_ATTEMPTS)
            throw new RelupError('CONFLICT', `history still contended after ${attempt} attempts`, {
              key: HISTORY,
              attempts: attempt,
            });
        }
      }
    },
  };
}

function maintenanceKey(node: string): string {
  assertSubjectToken('node id', node);
  return `maintenance.${node}`;
}

function currentKey(node: string): string {
  assertSubjectToken('node id', node);
  return `current.${node}`;
}

/** Writes only if the key is still at `revision` (0: the key does not exist or was deleted). */
function casWrite(kv: KV, key: string, value: Uint8Array, revision: number): Promise<number> {
  return revision === 0 ? kv.create(key, value) : kv.update(key, value, revision);
}

function isCasConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
