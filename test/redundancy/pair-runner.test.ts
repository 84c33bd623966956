import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/nats/connect.ts';
import type { RedundancyMode } from '../../src/redundancy/pair-machine.ts';
import {
  type PairRunner,
  type PairTransitionEvent,
  PairRunner as Runner,
} from '../../src/redundancy/pair-runner.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { TEST_TIMING } from './election-fixture.ts';
import { driveRow } from './pair-model.ts';
import { type HookRun, SHUTDOWN_TABLE, type TableAction } from './shutdown-table.ts';

const nats = useNats();
const conns: NatsConnection[] = [];
const runners: PairRunner[] = [];
afterAll(async () => {
  for (const r of runners) r.abandon();
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
});

type Server = 's1' | 's2';

/** Two runners of one pair in this process, each on its own connection, with their hook runs and transitions. */
class RealPair {
  readonly hooks: Record<Server, HookRun[]> = { s1: [], s2: [] };
  readonly transitions: PairTransitionEvent[] = [];
  private readonly runners: Partial<Record<Server, PairRunner>> = {};

  constructor(
    private readonly service: string,
    private readonly mode: RedundancyMode,
  ) {}

  async boot(n: Server, reason: 'deploy' | 'restart'): Promise<void> {
    const nc = await connectNats({ servers: nats.server().url, name: n });
    conns.push(nc);
    const record = (ctx: { hook: string; reason: string }) => {
      this.hooks[n].push(`${ctx.hook}:${ctx.reason}` as HookRun);
    };
    const r = await Runner.start(
      nc,
      {
        service: this.service,
        node: n,
        primary: 's1',
        backup: 's2',
        mode: this.mode,
        timing: TEST_TIMING,
        hooks: { startup: record, shutdown: record, onScan: record, offScan: record },
        onTransition: (e) => this.transitions.push(e),
      },
      reason,
    );
    this.runners[n] = r;
    runners.push(r);
  }

  runner(n: Server): PairRunner {
    const r = this.runners[n];
    if (!r) throw new Error(`${n} is not running`);
    return r;
  }

  states(): { s1: string; s2: string } {
    return { s1: this.runners.s1?.status().state ?? 'down', s2: this.runners.s2?.status().state ?? 'down' };
  }

  async act(a: TableAction): Promise<void> {
    switch (a) {
      case 'deploy':
        await Promise.all([this.boot('s1', 'deploy'), this.boot('s2', 'deploy')]);
        return;
      case 'forced failover': {
        const active = (['s1', 's2'] as Server[]).find((n) => this.runners[n]?.status().canAct);
        await this.runner(active!).failover();
        return;
      }
      case 'server 1 hard failure':
      case 'server 2 hard failure': {
        const n = a.startsWith('server 1') ? 's1' : 's2';
        this.runner(n).abandon();
        delete this.runners[n];
        return;
      }
      case 'graceful shutdown of server 1':
      case 'graceful shutdown of server 2': {
        const n = a.includes('server 1') ? 's1' : 's2';
        await this.runner(n).shutdown();
        delete this.runners[n];
        return;
      }
      case 'start server 1 only':
        await this.boot('s1', 'restart');
        return;
      case 'start server 2':
        await this.boot('s2', 'restart');
        return;
      case 'undeploy':
        await Promise.all([this.runner('s1').undeploy(), this.runner('s2').undeploy()]);
        delete this.runners.s1;
        delete this.runners.s2;
        return;
    }
  }

  async until(want: { s1: string; s2: string }, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.states();
      if (s.s1 === want.s1 && s.s2 === want.s2) return;
      if (Date.now() > end) throw new Error(`states ${JSON.stringify(s)}, wanted ${JSON.stringify(want)}`);
      // Polls the status: the runners publish no "settled" signal, and a row may need a lease to pass.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

let n = 0;
describe('redundancy - the document table against two runners on a real nats-server', () => {
  for (const row of SHUTDOWN_TABLE) {
    it(`redundancy - ${row.mode} - ${row.action}`, async () => {
      const pair = new RealPair(`table${++n}`, row.mode);
      await driveRow(
        pair,
        row,
        () => {
          pair.hooks.s1.length = 0;
          pair.hooks.s2.length = 0;
        },
        // Quiet period: two leases with nothing more.
        2 * TEST_TIMING.leaseMs,
      );
      expect(pair.states()).toEqual(row.end);
      expect(pair.hooks).toEqual(row.hooks);
      // Across the run: terms only grow, one node per term.
      const byTerm = new Map<number, Set<string>>();
      for (const t of pair.transitions)
        if (t.to.startsWith('active')) byTerm.set(t.term, (byTerm.get(t.term) ?? new Set()).add(t.node));
      for (const [, nodes] of byTerm) expect(nodes.size).toBe(1);
    }, 60_000);
  }
});

describe('redundancy - a pair runner whose effect fails', () => {
  it('leaves the pair (down, out of the election, the service stopped) with the error on its transition, and takes the next event', async () => {
    const nc = await connectNats({ servers: nats.server().url, name: 'fails' });
    conns.push(nc);
    const transitions: PairTransitionEvent[] = [];
    let broken = true;
    const calls: string[] = [];
    const host = {
      startService: () => {
        calls.push('start');
        if (broken) throw new Error('the service does not start');
      },
      stopService: () => {
        calls.push('stop');
      },
    };
    const opts = {
      service: 'failing',
      node: 's1',
      primary: 's1',
      backup: 's2',
      mode: 'warm' as const,
      timing: TEST_TIMING,
      host,
      onTransition: (e: PairTransitionEvent) => transitions.push(e),
    };
    await expect(Runner.start(nc, opts, 'deploy')).rejects.toThrow(/does not start/);
    // Stuck half-way before: it stayed `starting`, and every later event waited on it.
    const r = Runner.withdrawn(nc, opts);
    runners.push(r);
    await expect(r.rejoin()).rejects.toThrow(/does not start/);
    expect(r.status()).toMatchObject({ phase: 'down', canAct: false });
    expect(transitions.at(-1)).toMatchObject({
      event: 'start',
      to: 'down',
      error: expect.stringMatching(/does not start/),
    });
    expect(calls).toEqual(['start', 'stop', 'start', 'stop']);
    broken = false;
    await r.rejoin();
    expect(r.status().phase).not.toBe('down');
    expect(transitions.at(-1)).not.toHaveProperty('error');
  });
});
