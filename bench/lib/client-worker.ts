// The client side of the benchmarks, run in its own process (forked by worker.ts) so the load
// it makes does not share an event loop with the code measured. Commands arrive over IPC as
// { id, cmd, args } and are answered { id, ok, value } or { id, ok: false, error }.
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ServiceBroker as Broker } from 'moleculer';
import { InboxRequester } from '../../src/nats/inbox-requester.ts';
import { percentile } from './stats.ts';

/** One command to the worker. */
export interface WorkerRequest {
  id: number;
  cmd: string;
  args: Record<string, unknown>;
}

/** The worker's answer to a command. */
export interface WorkerResponse {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** Latency percentiles of sequential requests, in milliseconds. */
export interface LatencyStats {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

/** The outcome of a closed-loop request run. */
export interface RrStats {
  ms: number;
  ok: number;
  errors: number;
}

/** What the load generator saw (hot-vs-cold benchmark). */
export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  /** Failures by error code or message. */
  failures: Record<string, number>;
  /** Sessions the server closed (a `closed` push or UNKNOWN_SESSION). */
  dropped: number;
  /** Reconnects done after a drop. */
  reconnects: number;
  /** Longest time without any successful reply while the load ran (ms). */
  maxGapMs: number;
  /** When (ms after the load started) that longest gap began. */
  maxGapAt: number;
  /** Longest single request that succeeded (ms). */
  maxLatencyMs: number;
  /** Requests still unanswered when the load stopped (counted as failed). */
  unanswered: number;
  /** Gaps over 50 ms: [ms after the load started, length in ms], at most 20. */
  gaps: [number, number][];
  /** Latency percentiles of the successful requests (ms). */
  p50: number;
  p99: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
let nc: NatsConnection | undefined;
let broker: Broker | undefined;
let lean: InboxRequester | undefined;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The request function of a run: `lean` (see InboxRequester) or nats.js's `nc.request`. */
function requester(mode: unknown): (subject: string, data: Uint8Array) => Promise<Uint8Array> {
  const c = conn();
  if (mode === 'nc.request') return (s, d) => c.request(s, d, { timeout: 10_000 }).then((m) => m.data);
  const l = lean;
  if (!l) throw new Error('not connected');
  return (s, d) => l.request(s, d);
}

function conn(): NatsConnection {
  if (!nc) throw new Error('not connected');
  return nc;
}

/** `n` bytes of JSON: `{"type":<type>,"data":"xxx…"}`. */
function payload(type: string, bytes: number): string {
  const head = `{"type":${JSON.stringify(type)},"data":"`;
  const tail = '"}';
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

const commands: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
  async connect(a) {
    nc = await connect({ servers: String(a.url), name: 'bench-client' });
    lean = new InboxRequester(nc, 10_000);
    await nc.flush();
    return true;
  },

  /** Publishes `count` messages round-robin over the subjects, yielding every 1,000 so the socket drains. */
  async publish(a) {
    const subjects = a.subjects as string[];
    const count = a.count as number;
    const data = enc.encode(payload(String(a.type ?? 'tick'), a.bytes as number));
    const c = conn();
    const t0 = now();
    for (let i = 0; i < count; ) {
      const end = Math.min(count, i + 1000);
      for (; i < end; i++) c.publish(subjects[i % subjects.length] as string, data);
      await new Promise((r) => setImmediate(r));
    }
    await c.flush();
    return { ms: now() - t0, bytes: data.length };
  },

  /** `inflight` loops, each sending requests one after another on its own subject, `total` in all. */
  async rr(a) {
    const subjects = a.subjects as string[];
    const total = a.total as number;
    const inflight = a.inflight as number;
    const data = enc.encode(payload('echo', a.bytes as number));
    const request = requester(a.mode);
    let next = 0;
    let ok = 0;
    let errors = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: inflight }, async (_, w) => {
        const subject = subjects[w % subjects.length] as string;
        while (next < total) {
          next++;
          try {
            const reply = await request(subject, data);
            if (reply.length > 0) ok++;
          } catch {
            errors++;
          }
        }
      }),
    );
    return { ms: now() - t0, ok, errors } satisfies RrStats;
  },

  /** Sequential requests on one subject; the first `warmup` are not counted. */
  async latency(a) {
    const data = enc.encode(payload('echo', a.bytes as number));
    const request = requester(a.mode);
    const subject = String(a.subject);
    const samples: number[] = [];
    const warmup = a.warmup as number;
    for (let i = 0; i < warmup + (a.count as number); i++) {
      const t0 = now();
      await request(subject, data);
      if (i >= warmup) samples.push(now() - t0);
    }
    return latencyStats(samples);
  },

  async molStart(a) {
    const { ServiceBroker } = await import('moleculer');
    broker = new ServiceBroker({
      nodeID: 'bench-client',
      transporter: String(a.url),
      logger: false,
      metrics: false,
      tracing: false,
    });
    await broker.start();
    await broker.waitForServices(['echo'], 10_000);
    return true;
  },

  /** The rr workload through Moleculer: `inflight` loops calling `echo.echo`. */
  async molRr(a) {
    const b = molBroker();
    const total = a.total as number;
    const params = JSON.parse(payload('echo', a.bytes as number)) as Record<string, unknown>;
    let next = 0;
    let ok = 0;
    let errors = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: a.inflight as number }, async () => {
        while (next < total) {
          next++;
          try {
            await b.call('echo.echo', params, { timeout: 10_000 });
            ok++;
          } catch {
            errors++;
          }
        }
      }),
    );
    return { ms: now() - t0, ok, errors } satisfies RrStats;
  },

  async molLatency(a) {
    const b = molBroker();
    const params = JSON.parse(payload('echo', a.bytes as number)) as Record<string, unknown>;
    const samples: number[] = [];
    const warmup = a.warmup as number;
    for (let i = 0; i < warmup + (a.count as number); i++) {
      const t0 = now();
      await b.call('echo.echo', params, { timeout: 10_000 });
      if (i >= warmup) samples.push(now() - t0);
    }
    return latencyStats(samples);
  },

  async molStop() {
    await broker?.stop();
    broker = undefined;
    return true;
  },

  async loadStart(a) {
    load = startLoad(a as unknown as LoadArgs);
    return true;
  },

  async loadStop() {
    if (!load) throw new Error('no load running');
    const l = load;
    load = undefined;
    return l.stop();
  },

  async close() {
    if (load) await load.stop();
    lean?.close();
    await broker?.stop();
    await nc?.close();
    nc = undefined;
    return true;
  },
};

function molBroker(): Broker {
  if (!broker) throw new Error('moleculer broker not started');
  return broker;
}

function latencyStats(samples: number[]): LatencyStats {
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length),
    count: samples.length,
  };
}

// --- the steady load of the hot-vs-cold benchmark -------------------------------------------

/** Arguments of the load generator. */
interface LoadArgs {
  /** The service's connect subject and the connect payload of each session (index substituted for `{i}`). */
  connectSubject: string;
  sessionPrefix: string;
  sessions: number;
  /** Requests per second over all sessions, sent open-loop (a fixed schedule, not waiting for replies). */
  rate: number;
  /** Rooms the sessions are spread over. */
  rooms: number;
  timeoutMs: number;
}

interface Load {
  stop(): Promise<LoadStats>;
}

let load: Load | undefined;

/**
 * Chat sessions saying something at a fixed total rate. A session that is dropped (a `closed`
 * push, or UNKNOWN_SESSION / no responders on its subject) connects again, the way a client
 * of a restarted service must; requests sent meanwhile fail and count as lost.
 */
function startLoad(a: LoadArgs): Load {
  const c = conn();
  const stats: LoadStats = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: {},
    dropped: 0,
    reconnects: 0,
    maxGapMs: 0,
    maxGapAt: 0,
    maxLatencyMs: 0,
    unanswered: 0,
    gaps: [],
    p50: 0,
    p99: 0,
  };
  const latencies: number[] = [];
  interface Sess {
    id: string | undefined;
    user: string;
    room: string;
    connecting: Promise<void> | undefined;
    gen: number;
  }
  const requester = new InboxRequester(c, a.timeoutMs);
  const t0 = now();
  let lastOk = now();
  let inflight = 0;
  let stopped = false;
  const pushSubs = new Map<Sess, { unsubscribe(): void }>();
  const fail = (why: string) => {
    stats.failed++;
    stats.failures[why] = (stats.failures[why] ?? 0) + 1;
  };
  const drop = (s: Sess, gen: number) => {
    if (s.gen !== gen || stopped) return; // already dropped and reconnecting, or closing at the end
    s.gen++;
    stats.dropped++;
    s.id = undefined;
    pushSubs.get(s)?.unsubscribe();
    pushSubs.delete(s);
    void reconnect(s);
  };
  const open = async (s: Sess): Promise<void> => {
    const m = await c.request(a.connectSubject, enc.encode(JSON.stringify({ user: s.user, room: s.room })), {
      timeout: a.timeoutMs,
    });
    const body = JSON.parse(dec.decode(m.data)) as {
      ok?: boolean;
      session?: string;
      error?: { code: string };
    };
    if (!body.session) throw new Error(body.error?.code ?? 'connect refused');
    const gen = s.gen;
    const id = body.session;
    pushSubs.set(
      s,
      c.subscribe(`${a.sessionPrefix}${id}.push`, {
        callback: (_e, msg) => {
          const p = JSON.parse(dec.decode(msg.data)) as { type?: string };
          if (p.type === 'closed') drop(s, gen);
        },
      }),
    );
    await c.flush();
    s.id = id;
  };
  const reconnect = (s: Sess): Promise<void> => {
    if (!s.connecting)
      s.connecting = (async () => {
        while (!stopped) {
          try {
            await open(s);
            stats.reconnects++;
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      })().finally(() => {
        s.connecting = undefined;
      });
    return s.connecting;
  };
  const sessions: Sess[] = Array.from({ length: a.sessions }, (_, i) => ({
    id: undefined,
    user: `load${i}`,
    room: `load${i % a.rooms}`,
    connecting: undefined,
    gen: 0,
  }));
  const ready = Promise.all(sessions.map((s) => open(s)));
  let k = 0;
  const sendOne = () => {
    const s = sessions[k++ % sessions.length] as Sess;
    stats.sent++;
    if (!s.id) {
      fail('session reconnecting');
      return;
    }
    const gen = s.gen;
    const sent = now();
    inflight++;
    requester
      .request(
        `${a.sessionPrefix}${s.id}`,
        enc.encode(JSON.stringify({ type: 'say', text: `m${stats.sent}` })),
      )
      .then(
        (data) => {
          inflight--;
          const body = JSON.parse(dec.decode(data)) as { ok?: boolean; error?: { code: string } };
          if (body.ok === true) {
            const t = now();
            if (t - lastOk > 50 && stats.gaps.length < 20)
              stats.gaps.push([Math.round(lastOk - t0), Math.round(t - lastOk)]);
            if (t - lastOk > stats.maxGapMs) {
              stats.maxGapMs = t - lastOk;
              stats.maxGapAt = lastOk - t0;
            }
            lastOk = t;
            stats.ok++;
            stats.maxLatencyMs = Math.max(stats.maxLatencyMs, t - sent);
            latencies.push(t - sent);
          } else {
            const code = body.error?.code ?? 'error reply';
            fail(code);
            if (code === 'UNKNOWN_SESSION' || code === 'ACTOR_STOPPED') drop(s, gen);
          }
        },
        (err: unknown) => {
          inflight--;
          const message = String((err as Error)?.message);
          const noResponders = message === 'no responders';
          fail(noResponders ? 'no responders' : message);
          if (noResponders) drop(s, gen);
        },
      );
  };
  // Open-loop schedule: every tick sends what is due since the start, so a stall is not forgiven.
  let timer: ReturnType<typeof setInterval> | undefined;
  const started = ready.then(() => {
    const start = now();
    lastOk = start;
    let due = 0;
    timer = setInterval(() => {
      const target = Math.floor(((now() - start) * a.rate) / 1000);
      while (due < target) {
        due++;
        sendOne();
      }
    }, 1);
  });
  return {
    async stop() {
      await started;
      if (timer) clearInterval(timer);
      const deadline = now() + a.timeoutMs + 1000;
      while (inflight > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 10));
      stopped = true;
      // Close the sessions, so the next load does not find them as room members (each say pushes to every member).
      await Promise.all(
        sessions.map((s) =>
          s.id
            ? requester.request(`${a.sessionPrefix}${s.id}`, enc.encode('{"type":"close"}')).catch(() => {})
            : undefined,
        ),
      );
      requester.close();
      stats.unanswered = inflight;
      if (inflight > 0) {
        stats.failed += inflight;
        stats.failures.unanswered = inflight;
      }
      stats.p50 = percentile(latencies, 50);
      stats.p99 = percentile(latencies, 99);
      for (const sub of pushSubs.values()) sub.unsubscribe();
      return stats;
    },
  };
}

process.on('message', (m: WorkerRequest) => {
  const fn = commands[m.cmd];
  const reply = (r: WorkerResponse) => process.send?.(r);
  if (!fn) {
    reply({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
    return;
  }
  fn(m.args).then(
    (value) => reply({ id: m.id, ok: true, value }),
    (err: unknown) => reply({ id: m.id, ok: false, error: String((err as Error)?.stack ?? err) }),
  );
});
process.on('disconnect', () => process.exit(0));
