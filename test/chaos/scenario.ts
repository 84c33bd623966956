import type { NatsConnection } from '@nats-io/nats-core';
import { command } from '../helpers/node-spawn.ts';
import { type FaultKind, inject } from './faults.ts';
import { checkHistories, checkNodes, checkSessions, emptyVerdict, type Verdict } from './invariants.ts';
import { startLoad } from './load.ts';
import { type FaultPoint, watchPoint } from './points.ts';
import { type Rig, startRig } from './rig.ts';

/** One cell of the chaos matrix: a fault at a point, on a cluster with `replicas` copies of relup's state. */
export interface Scenario {
  readonly fault: FaultKind;
  readonly point: FaultPoint;
  readonly replicas?: number;
}

/** What a scenario measured and whether every invariant held. */
export interface ScenarioResult extends Verdict {
  readonly name: string;
  readonly fault: FaultKind;
  readonly point: FaultPoint;
  readonly replicas: number;
  sent: number;
  acked: number;
  /** From the fault until every client had a say acknowledged again; null when they did not. */
  recoverMs: number | null;
  durationMs: number;
  pass: boolean;
}

/** How a scenario runs. */
export interface ScenarioOptions {
  /** The whole scenario's budget, default 150 s: past it, it fails and everything is stopped. */
  timeoutMs?: number;
  /** Chat clients, default 40. */
  clients?: number;
  /** Progress lines, default none. */
  log?: (line: string) => void;
  /** A rig to run on (left running); default a fresh one, stopped after the scenario. */
  rig?: Rig;
  /** Room names' prefix, default `room`: scenarios sharing a rig need their own. */
  roomPrefix?: string;
}

/** The node the fault hits; the other node serves on. */
export const FAULTED = 'c1';
const NODES = [FAULTED, 'c2'];
const RECOVER_MS = 60_000;
const AFTER_RECOVERY_MS = 2_000;

/** The name a scenario is known by (and rerun with): `<fault>@<point>`, `/r1` for one replica. */
export function scenarioName(s: Scenario): string {
  return `${s.fault}@${s.point}${(s.replicas ?? 3) === 3 ? '' : `/r${s.replicas}`}`;
}

const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });

/**
 * Runs one scenario on a fresh rig: ≥ 40 clients chat over two nodes, both nodes upgrade chat
 * 1.0.0 → 1.1.0 (unless the point is `steady`), the fault hits node c1 (or its server, a leader,
 * the cluster) when c1's events say the point is reached, then it is healed; once every client
 * is served again the load stops and the invariants are checked from the wire.
 */
export async function runScenario(s: Scenario, opts: ScenarioOptions = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const replicas = s.replicas ?? 3;
  const verdict = emptyVerdict();
  const result: ScenarioResult = {
    name: scenarioName(s),
    fault: s.fault,
    point: s.point,
    replicas,
    sent: 0,
    acked: 0,
    recoverMs: null,
    durationMs: 0,
    pass: false,
    ...verdict,
  };
  let rig: Rig | undefined;
  let stopLoad: (() => Promise<void>) | undefined;
  let conns: NatsConnection[] = [];
  const body = async () => {
    rig = opts.rig ?? (await startRig({ replicas, nodes: NODES }));
    const r = rig;
    conns = await Promise.all([0, 1, 2, 3].map((i) => r.client(`chaos-load-${i}`)));
    const load = startLoad({ conns, clients: opts.clients ?? 40, roomPrefix: opts.roomPrefix ?? 'room' });
    stopLoad = load.stop;
    if (!(await load.allAckedSince(t0, 30_000))) throw new Error('the load never got going');
    log(`${result.name}: load running`);
    let upgrades: Promise<unknown>[] = [];
    if (s.point !== 'steady') {
      const watch = watchPoint(r.nc, FAULTED, s.point);
      upgrades = NODES.map((n) => command(r.nc, n, 'upgrade', { to: '1.1.0' }, 60_000).catch(() => {}));
      await within(60_000, `point ${s.point}`, watch.reached).finally(watch.cancel);
    }
    const faultedPid = r.node(FAULTED).proc?.pid;
    const injectedAt = Date.now();
    const fault = await inject(r, s.fault, FAULTED);
    log(`${result.name}: injected on ${fault.target}`);
    await fault.heal();
    const healedAt = Date.now();
    log(`${result.name}: healed after ${healedAt - injectedAt} ms`);
    const recovered = await load.allAckedSince(healedAt, RECOVER_MS);
    // An upgrade command to a node that died is never answered: wait only for live ones.
    const answering = upgrades.filter(
      (_, i) => NODES[i] !== FAULTED || r.node(FAULTED).proc?.pid === faultedPid,
    );
    await within(60_000, 'the upgrades', Promise.all(answering)).catch((err: Error) =>
      verdict.problems.push(err.message),
    );
    if (recovered) result.recoverMs = Date.now() - injectedAt;
    else
      verdict.problems.push(
        `${load.clients.filter((c) => c.lastAckAt <= healedAt).length} clients not served again within ${RECOVER_MS} ms`,
      );
    const firstAfter = (i: number) =>
      load.acks.find((a) => a.client === i && a.at > healedAt)?.at ?? Infinity;
    const slowest = [...load.clients].sort((x, y) => firstAfter(y.index) - firstAfter(x.index))[0];
    if (slowest)
      log(
        `${result.name}: slowest u${slowest.index} +${firstAfter(slowest.index) - healedAt} ms ${JSON.stringify(
          slowest.failures.map((f) => `${f.op} ${f.code} +${f.at - healedAt}`),
        )}`,
      );
    if (s.point === 'before-permanent') {
      // As an operator would: a store still electing its leader refuses the command with a
      // clear error, and it is sent again.
      let error: Error | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        // A node restarted meanwhile runs the permanent release again (the upgrade was not made
        // permanent): the operator makes permanent what it runs.
        const running = await command(r.nc, FAULTED, 'status', {}, 3_000).then(
          (st) => String(st.release),
          () => '1.1.0',
        );
        error = await command(r.nc, FAULTED, 'make_permanent', { version: running }).then(
          () => undefined,
          (err: Error) => err,
        );
        if (!error) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      if (error) verdict.problems.push(`make_permanent: ${error.message}`);
    }
    // Service goes on a while after recovery: the load measures it, nothing waits on it.
    await new Promise((resolve) => setTimeout(resolve, AFTER_RECOVERY_MS));
    await load.stop();
    result.sent = load.sent();
    result.acked = load.acks.length;
    await checkHistories(r.nc, load.acks, verdict);
    await checkSessions(r.nc, load.clients, verdict);
    await checkNodes(r.nc, NODES, verdict);
  };
  try {
    await within(opts.timeoutMs ?? 150_000, result.name, body());
  } catch (err) {
    verdict.problems.push(`scenario failed: ${(err as Error).message}`);
  } finally {
    await stopLoad?.().catch(() => {});
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    if (!opts.rig) await (rig as Rig | undefined)?.stop();
  }
  Object.assign(result, verdict, { durationMs: Date.now() - t0 });
  result.pass = verdict.problems.length === 0 && verdict.lost === 0 && verdict.duplicated === 0;
  return result;
}
