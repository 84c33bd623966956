import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import { openReleaseStore } from '../../src/release/release-store.ts';
import { openJournal } from '../../src/relup/journal.ts';
import { command } from '../helpers/node-spawn.ts';
import type { Ack, ClientLog } from './load.ts';

/** What the invariants found, every count from the wire. */
export interface Verdict {
  /** Acknowledged says missing from their room's history under their seq. */
  lost: number;
  /** Extra copies of a text in a history, or seqs acknowledged twice. */
  duplicated: number;
  /** Sessions neither served any more nor told why they closed. */
  dropped: number;
  /** Acknowledged says older than the history a room keeps (not checkable). */
  beyondHistory: number;
  /** Every broken invariant, one line each. */
  problems: string[];
}

interface Line {
  seq: number;
  user: string;
  text: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Retries a request a while: right after a fault, the cluster may still be electing leaders.
async function retry<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

async function ask(nc: NatsConnection, subject: string, payload: unknown): Promise<Record<string, unknown>> {
  const r = decode<Record<string, unknown>>(
    (await nc.request(subject, encode(payload), { timeout: 3_000 })).data,
  );
  if (r.ok === false) throw Object.assign(new Error(JSON.stringify(r.error)), r.error as object);
  return r;
}

/** Every acknowledged say is in its room's history exactly once, in order, under its seq. */
export async function checkHistories(nc: NatsConnection, acks: Ack[], verdict: Verdict): Promise<void> {
  const rooms = [...new Set(acks.map((a) => a.room))];
  for (const room of rooms) {
    const history = await retry(`history of ${room}`, 30_000, async () => {
      const { session } = await ask(nc, 'relup.svc.chat.connect', { user: 'checker', room });
      const r = await ask(nc, `relup.ses.${session}`, { type: 'history' });
      await ask(nc, `relup.ses.${session}`, { type: 'close' }).catch(() => {});
      return r.messages as Line[];
    });
    const bySeq = new Map(history.map((m) => [m.seq, m]));
    const first = history[0]?.seq ?? Number.POSITIVE_INFINITY;
    history.forEach((m, i) => {
      if (i > 0 && m.seq !== (history[i - 1] as Line).seq + 1)
        verdict.problems.push(`${room}: seq ${m.seq} follows ${(history[i - 1] as Line).seq}`);
    });
    const texts = new Map<string, number>();
    for (const m of history) texts.set(m.text, (texts.get(m.text) ?? 0) + 1);
    for (const [text, n] of texts)
      if (n > 1) {
        verdict.duplicated += n - 1;
        verdict.problems.push(`${room}: "${text}" is in the history ${n} times`);
      }
    const seen = new Map<number, string>();
    for (const a of acks.filter((x) => x.room === room)) {
      const other = seen.get(a.seq);
      if (other !== undefined && other !== a.text) {
        verdict.duplicated++;
        verdict.problems.push(`${room}: seq ${a.seq} acknowledged for "${other}" and "${a.text}"`);
      }
      seen.set(a.seq, a.text);
      if (a.seq < first) {
        verdict.beyondHistory++;
        continue;
      }
      if (bySeq.get(a.seq)?.text !== a.text) {
        verdict.lost++;
        verdict.problems.push(
          `${room}: acknowledged "${a.text}" as seq ${a.seq}, history has ${JSON.stringify(bySeq.get(a.seq)?.text ?? null)}`,
        );
      }
    }
  }
  // A client says one text at a time: its acknowledged seqs increase.
  const byClient = new Map<number, Ack[]>();
  for (const a of acks) byClient.set(a.client, [...(byClient.get(a.client) ?? []), a]);
  for (const [client, list] of byClient)
    list.forEach((a, i) => {
      if (i > 0 && a.seq <= (list[i - 1] as Ack).seq)
        verdict.problems.push(
          `client u${client}: seq ${a.seq} acknowledged after ${(list[i - 1] as Ack).seq}`,
        );
    });
}

/**
 * Every session is still served (its next message, after a resume on the connect subject when
 * its node is gone, is answered) or its client was told why it closed.
 */
export async function checkSessions(
  nc: NatsConnection,
  clients: ClientLog[],
  verdict: Verdict,
): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      if (c.session === undefined) {
        verdict.dropped++;
        verdict.problems.push(`u${c.index}: never connected (${JSON.stringify(c.errors)})`);
        return;
      }
      let why = '';
      const served = await retry(`session of u${c.index}`, 20_000, async () => {
        try {
          await ask(nc, `relup.ses.${c.session}`, { type: 'history', since: 1e9 });
          return true;
        } catch (err) {
          why = (err as Error).message;
          const code = (err as { code?: string }).code;
          if (code && code !== 'TIMEOUT' && code !== 'UNKNOWN_SESSION') return false; // told why
          // No one serves it: resume it as the client would.
          await ask(nc, 'relup.svc.chat.connect', { user: c.user, room: c.room, session: c.session });
          throw err;
        }
      }).catch(() => false);
      const told = c.closes.some((x) => !x.resumable);
      if (!served && !told) {
        verdict.dropped++;
        verdict.problems.push(`u${c.index}: session ${c.session} silently gone (${why})`);
      }
    }),
  );
}

/** No node is left mid-upgrade; each node's status, the release store and the upgrade journal agree. */
export async function checkNodes(nc: NatsConnection, nodes: string[], verdict: Verdict): Promise<void> {
  const store = await openReleaseStore(nc);
  for (const node of nodes) {
    const status = await retry(`status of ${node}`, 30_000, async () => {
      const s = await command(nc, node, 'status', {}, 3_000);
      if (s.upgrading) throw new Error('still upgrading');
      return s;
    }).catch((err: Error) => {
      verdict.problems.push(`${node}: ${err.message}`);
      return undefined;
    });
    if (!status) continue;
    const current = await store.current(node);
    if (current !== status.release)
      verdict.problems.push(`${node}: runs ${status.release}, the release store says ${current}`);
    const journal = await openJournal(nc, node);
    const active = await journal.active();
    if (active)
      verdict.problems.push(`${node}: journal shows upgrade ${active.id} in flight (${active.state})`);
    const last = status.lastUpgrade as { id: string; outcome: string } | undefined;
    if (last) {
      const report = (await journal.get(last.id)) as { outcome?: string } | undefined;
      if (report?.outcome !== last.outcome)
        verdict.problems.push(
          `${node}: status says upgrade ${last.id} ${last.outcome}, the journal ${report?.outcome ?? 'nothing'}`,
        );
    }
  }
}

/** A verdict with nothing found yet. */
export function emptyVerdict(): Verdict {
  return { lost: 0, duplicated: 0, dropped: 0, beyondHistory: 0, problems: [] };
}
