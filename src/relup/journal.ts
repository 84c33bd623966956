import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { z } from 'zod';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { replicasFor } from '../nats/replicas.ts';
import { guardStore } from '../nats/store-error.ts';
import { assertSubjectToken } from '../nats/subjects.ts';
import { zodProblems } from '../problems.ts';
import {
  UPGRADE_STATES,
  type UpgradeProgress,
  type UpgradeReport,
  type UpgradeState,
} from './upgrade-report.ts';

/** The upgrade a node is running, as its journal says: enough for a boot to decide what to trust. */
export interface ActiveUpgrade {
  id: string;
  state: UpgradeState;
  passedPonr: boolean;
}

/** What the executor writes: every write is awaited before the next step runs. */
export interface JournalWriter {
  /** Records an upgrade that is about to run its first step. */
  begin(progress: UpgradeProgress): Promise<void>;
  /** Records the progress before a step (or an undo) runs. */
  step(progress: UpgradeProgress): Promise<void>;
  /** Records the final report and clears the active upgrade. */
  end(report: UpgradeReport): Promise<void>;
}

/** The upgrade journal of one node, in a JetStream KV bucket. */
export interface Journal extends JournalWriter {
  /** The upgrade in flight, or undefined when none is (or the last one ended). */
  active(): Promise<ActiveUpgrade | undefined>;
  /** The running or final report of an upgrade of this node. */
  get(id: string): Promise<UpgradeProgress | UpgradeReport | undefined>;
  /** Resolves when every write asked for so far is stored (writes after the point of no return are pipelined). */
  flushed(): Promise<void>;
  /** The reports this node keeps (at most `keep`), oldest first by when they were last written. */
  history(): Promise<(UpgradeProgress | UpgradeReport)[]>;
}

/** Where the journal lives. */
export interface JournalOptions {
  /** The KV bucket, default `relup_journal`. */
  bucket?: string;
  /** How many upgrade reports a node keeps; older ones are removed when an upgrade ends. Default 50. */
  keep?: number;
  /** Copies kept by JetStream, default what the server reports (see `replicasFor`); an existing bucket keeps its own. */
  replicas?: number;
}

/** How many upgrade reports a node keeps by default. */
export const DEFAULT_JOURNAL_KEEP = 50;

const activeSchema = z.object({
  id: z.string(),
  state: z.enum(UPGRADE_STATES),
  passedPonr: z.boolean(),
});

/**
 * Opens (creating when missing) the journal of a node. Keys: `upgrade.<node>.<id>` holds the
 * running report, `active.<node>` the upgrade in flight; history 1, as only the last value matters.
 */
export async function openJournal(
  nc: NatsConnection,
  node: string,
  opts: JournalOptions = {},
): Promise<Journal> {
  assertSubjectToken('node id', node);
  const bucket = opts.bucket ?? 'relup_journal';
  const keep = opts.keep ?? DEFAULT_JOURNAL_KEEP;
  if (!Number.isInteger(keep) || keep < 1)
    throw new RelupError('BAD_OPTIONS', `the journal keeps at least one report, got ${keep}`, { keep });
  const replicas = replicasFor(nc, opts.replicas);
  const kv = await guardStore(`upgrade journal: cannot open bucket ${bucket}`, () =>
    new Kvm(nc).create(bucket, { history: 1, replicas }),
  );
  const activeKey = `active.${node}`;
  const reportKey = (id: string) => `upgrade.${node}.${id}`;
  // The active key changes only with the state, so most steps cost one put.
  let written: ActiveUpgrade | undefined;

  const put = (key: string, bytes: Uint8Array) =>
    guardStore(`upgrade journal: cannot write ${key}`, () => kv.put(key, bytes));
  // Writes go out one after the other in call order, whether or not the caller awaits each:
  // the executor awaits them before the point of no return and pipelines them after it, so the
  // pause clients see does not wait for the store once per step.
  let tail: Promise<unknown> = Promise.resolve();

  function step(progress: UpgradeProgress): Promise<void> {
    const active = { id: progress.id, state: progress.state, passedPonr: progress.passedPonr };
    // Encoded now: the progress object keeps changing while the write waits its turn.
    const activeBytes =
      written?.id !== active.id || written.state !== active.state || written.passedPonr !== active.passedPonr
        ? encode(active)
        : undefined;
    if (activeBytes) written = active;
    const reportBytes = encode(progress);
    const write = tail.then(async () => {
      // Active first: a death between the two writes leaves the flag ahead of the report, never behind.
      if (activeBytes) await put(activeKey, activeBytes);
      await put(reportKey(progress.id), reportBytes);
    });
    tail = write.catch(() => {});
    return write;
  }

  /** This node's reports with their keys, oldest write first (history 1: one entry per key). */
  async function listReports(): Promise<{ key: string; value: UpgradeProgress | UpgradeReport }[]> {
    return guardStore(`upgrade journal: cannot list ${reportKey('*')}`, async () => {
      const out: { key: string; value: UpgradeProgress | UpgradeReport }[] = [];
      for await (const e of await kv.history({ key: `upgrade.${node}.>` }))
        if (e.operation === 'PUT') out.push({ key: e.key, value: decode(e.value) });
      return out;
    });
  }

  /** Removes the oldest reports beyond `keep`, leaving no delete markers behind. */
  async function trim(): Promise<void> {
    const reports = await listReports();
    if (reports.length <= keep) return;
    const jsm = await jetstreamManager(nc);
    for (const { key } of reports.slice(0, reports.length - keep))
      await guardStore(`upgrade journal: cannot remove ${key}`, () =>
        jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${key}` }),
      );
  }

  return {
    async begin(progress) {
      assertSubjectToken('upgrade id', progress.id);
      written = undefined;
      await step(progress);
    },

    step,

    async end(report) {
      await tail;
      await put(reportKey(report.id), encode(report));
      await guardStore(`upgrade journal: cannot delete ${activeKey}`, () => kv.delete(activeKey));
      written = undefined;
      await trim();
    },

    async history() {
      return (await listReports()).map((e) => e.value);
    },

    async flushed() {
      await tail;
    },

    async active() {
      const entry = await guardStore(`upgrade journal: cannot read ${activeKey}`, () => kv.get(activeKey));
      if (entry?.operation !== 'PUT') return undefined;
      const parsed = activeSchema.safeParse(decode(entry.value));
      if (!parsed.success)
        throw new RelupError('STORE_FAILED', `${bucket}/${activeKey} holds an invalid value`, {
          key: activeKey,
          problems: zodProblems(parsed.error),
        });
      return parsed.data;
    },

    async get(id) {
      assertSubjectToken('upgrade id', id);
      const entry = await guardStore(`upgrade journal: cannot read ${reportKey(id)}`, () =>
        kv.get(reportKey(id)),
      );
      // Only this journal writes these keys, so the shape is the one it wrote.
      return entry?.operation === 'PUT' ? decode<UpgradeProgress | UpgradeReport>(entry.value) : undefined;
    },
  };
}
