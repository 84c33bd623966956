// Soak, in a fresh process (run by bench/soak.ts under --expose-gc): a durable chat node serves
// 40 clients saying in a loop while it goes 1.0.0 → 1.1.0 → 1.0.0 `roundTrips` times; heap (after
// gc) and RSS are sampled every 10 round trips, and every acknowledged say is checked against
// its room's history as the run goes (so what the check keeps stays bounded).
//   soak-probe.ts <nats url> <round trips>
import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type Ack, startLoad } from '../../test/chaos/load.ts';
import { startBenchNode } from './nodes.ts';
import { runProbe } from './run-probe.ts';
import { median } from './stats.ts';

/** What the probe prints. */
export interface SoakResult {
  roundTrips: number;
  /** [round trips done, heapUsed after gc, rss]. */
  samples: [number, number, number][];
  sent: number;
  acked: number;
  lost: number;
  duplicated: number;
  /** Acknowledged says that had left the room's kept history before they were checked. */
  unchecked: number;
  /** Median duration of one round trip (two upgrades), ms. */
  roundTripMs: number;
  seconds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): [number, number] {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return [m.heapUsed, m.rss];
}

interface Line {
  seq: number;
  text: string;
}

/** Checks acknowledged says against history room by room, forgetting what it checked. */
function checker(nc: NatsConnection) {
  const pending = new Map<string, Ack[]>();
  const sessions = new Map<string, string>();
  const counts = { lost: 0, duplicated: 0, unchecked: 0 };
  // Retried a few times: a node whose event loop stalled past its lease checks ownership first
  // and may refuse a message meanwhile; the check must not break the run.
  const ask = async (subject: string, payload: unknown) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = decode<Record<string, unknown>>(
          (await nc.request(subject, encode(payload), { timeout: 5_000 })).data,
        );
        if (r.ok === false) throw new Error(JSON.stringify(r.error));
        return r;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  };
  return {
    counts,
    add(a: Ack) {
      const list = pending.get(a.room);
      if (list) list.push(a);
      else pending.set(a.room, [a]);
    },
    async check() {
      for (const [room, list] of pending) {
        if (list.length === 0) continue;
        let session = sessions.get(room);
        if (!session) {
          session = (await ask('relup.svc.chat.connect', { user: 'soak-checker', room })).session as string;
          sessions.set(room, session);
        }
        // Only says acknowledged before the history was asked for must be in it.
        const asked = Date.now();
        const since = Math.min(...list.map((a) => a.seq)) - 1;
        const history = (await ask(`relup.ses.${session}`, { type: 'history', since })).messages as Line[];
        const bySeq = new Map(history.map((m) => [m.seq, m.text]));
        const first = history[0]?.seq ?? Number.POSITIVE_INFINITY;
        if (new Set(history.map((m) => m.text)).size !== history.length) counts.duplicated++;
        const keep: Ack[] = [];
        for (const a of list) {
          if (a.at >= asked) keep.push(a);
          else if (a.seq < first) counts.unchecked++;
          else if (bySeq.get(a.seq) !== a.text) counts.lost++;
        }
        pending.set(room, keep);
      }
    },
  };
}

async function main(): Promise<SoakResult> {
  const [url, roundTripsArg] = process.argv.slice(2);
  const roundTrips = Number(roundTripsArg);
  const t0 = Date.now();
  const node = await startBenchNode(String(url), `bench-soak-${process.pid}`, 'chat');
  const conns = await Promise.all(
    [0, 1].map((i) => connectNats({ servers: String(url), name: `soak-${i}` })),
  );
  const check = checker(conns[0] as NatsConnection);
  const load = startLoad({ conns, roomPrefix: 'soak', keepAcks: false, onAck: (a) => check.add(a) });
  try {
    if (!(await load.allAckedSince(t0, 30_000))) throw new Error('the load never got going');
    const samples: [number, number, number][] = [[0, ...memory()]];
    const durations: number[] = [];
    for (let i = 1; i <= roundTrips; i++) {
      const started = Date.now();
      for (const to of ['1.1.0', '1.0.0']) {
        const r = await node.upgrade({ to });
        if (r.outcome !== 'done')
          throw new Error(`round trip ${i} to ${to}: ${r.outcome} ${JSON.stringify(r.error)}`);
      }
      durations.push(Date.now() - started);
      if (i % 10 === 0) {
        await check.check();
        samples.push([i, ...memory()]);
      }
    }
    await load.stop();
    await check.check();
    return {
      roundTrips,
      samples,
      sent: load.sent(),
      acked: load.clients.reduce((s, c) => s + c.acked, 0),
      ...check.counts,
      roundTripMs: median(durations),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await load.stop();
    await node.stop();
    await Promise.all(conns.map((c) => c.close()));
  }
}

runProbe(main);
