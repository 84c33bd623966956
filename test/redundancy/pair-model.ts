import {
  displayState,
  initialPairState,
  type PairEffect,
  type PairNodeEvent,
  type PairNodeState,
  pairTransition,
  type RedundancyMode,
} from '../../src/redundancy/pair-machine.ts';
import type { HandOver, Scan } from '../../src/redundancy/pair-record.ts';
import type { HookRun, TableAction, TableRow } from './shutdown-table.ts';

type Server = 's1' | 's2';

/**
 * Two node machines and an idealised election, with no NATS: leases expire at once when their
 * holder dies, and the primary wins a new pair. The table test drives it to tell a bug of the
 * model from a bug of the runtime.
 */
export class PairModel {
  readonly nodes: Record<Server, PairNodeState>;
  readonly hooks: Record<Server, HookRun[]> = { s1: [], s2: [] };
  /** Every term a node was elected in, in order. */
  readonly terms: number[] = [];
  private readonly up: Record<Server, boolean> = { s1: false, s2: false };
  private readonly campaigning: Record<Server, boolean> = { s1: false, s2: false };
  private record: { term: number; holder?: Server; held: boolean; scan: Scan; reason: HandOver } | undefined;

  constructor(mode: RedundancyMode) {
    this.nodes = { s1: initialPairState(mode, 'primary'), s2: initialPairState(mode, 'backup') };
  }

  /** The two states as the document names them. */
  states(): { s1: string; s2: string } {
    return { s1: displayState(this.nodes.s1), s2: displayState(this.nodes.s2) };
  }

  /** Performs a table action and lets the election settle. */
  act(action: TableAction): void {
    switch (action) {
      case 'deploy':
        this.boot('s1', 'deploy');
        this.boot('s2', 'deploy');
        break;
      case 'forced failover':
        if (this.record?.holder) this.send(this.record.holder, { type: 'failover' });
        break;
      case 'server 1 hard failure':
        this.kill('s1');
        break;
      case 'server 2 hard failure':
        this.kill('s2');
        break;
      case 'graceful shutdown of server 1':
        this.send('s1', { type: 'shutdown' });
        this.up.s1 = false;
        break;
      case 'graceful shutdown of server 2':
        this.send('s2', { type: 'shutdown' });
        this.up.s2 = false;
        break;
      case 'start server 1 only':
        this.boot('s1', 'restart');
        break;
      case 'start server 2':
        this.boot('s2', 'restart');
        break;
      case 'undeploy':
        this.send('s1', { type: 'undeploy' });
        this.send('s2', { type: 'undeploy' });
        break;
    }
    this.settle();
  }

  /** Clears the hook log (between a row's prefix and its action). */
  clearHooks(): void {
    this.hooks.s1.length = 0;
    this.hooks.s2.length = 0;
  }

  private boot(n: Server, reason: 'deploy' | 'restart'): void {
    this.up[n] = true;
    this.send(n, { type: 'start', reason });
  }

  private kill(n: Server): void {
    this.up[n] = false;
    this.campaigning[n] = false;
    this.nodes[n] = initialPairState(this.nodes[n].mode, this.nodes[n].role);
    if (this.record?.holder === n) this.record.held = false;
  }

  private send(n: Server, e: PairNodeEvent): void {
    const step = pairTransition(this.nodes[n], e);
    if (step.deferred) throw new Error(`${n}: ${e.type} during ${this.nodes[n].phase}`);
    this.nodes[n] = step.state;
    for (const eff of step.effects) this.apply(n, eff);
    if (step.effects.length > 0) this.nodes[n] = pairTransition(this.nodes[n], { type: 'done' }).state;
  }

  private apply(n: Server, eff: PairEffect): void {
    switch (eff.type) {
      case 'hook':
        this.hooks[n].push(`${eff.hook}:${eff.reason}`);
        return;
      case 'campaign':
        this.campaigning[n] = true;
        return;
      case 'resign':
        this.campaigning[n] = false;
        return;
      case 'release':
        if (this.record?.holder === n)
          this.record = { ...this.record, held: false, scan: eff.scan, reason: eff.reason };
        return;
      default:
        return;
    }
  }

  /** Runs the election: a candidate that is up and standing by wins a free lease; the primary first on a new pair. */
  settle(): void {
    for (let round = 0; round < 4; round++) {
      const rec = this.record;
      if (rec?.held) return;
      const fresh = !rec || rec.reason === 'undeploy';
      const candidates = (['s1', 's2'] as Server[]).filter(
        (n) => this.up[n] && this.campaigning[n] && this.nodes[n].phase === 'standby',
      );
      // The releaser of a failover waits a lease, which its partner, watching, does not.
      const others = candidates.filter((n) => !(rec?.reason === 'failover' && rec.holder === n));
      const pick = others[0] ?? candidates[0];
      if (!pick) return;
      const term = (rec?.term ?? 0) + 1;
      const reason: HandOver = fresh ? 'deploy' : rec.reason === 'failover' ? 'failover' : 'takeover';
      const scan = fresh ? 'on' : rec.scan;
      this.record = { term, holder: pick, held: true, scan, reason };
      this.terms.push(term);
      this.send(pick, { type: 'elected', term, scan, reason });
    }
  }
}

/** A pair under test: what the table rows need to drive it and read it. */
export interface DrivenPair {
  act(a: TableAction): Promise<void>;
  /** Resolves once both nodes show these states. */
  until(want: { s1: string; s2: string }): Promise<void>;
  states(): { s1: string; s2: string } | Promise<{ s1: string; s2: string }>;
}

/**
 * Drives a pair through a row: each prefix action settles where the model says, then the row's
 * action settles at its end states and a quiet period of `quietMs` passes with nothing more.
 * `beforeAction` runs once the row's initial states hold (to forget the prefix's hook runs).
 */
export async function driveRow(
  pair: DrivenPair,
  row: TableRow,
  beforeAction: () => void,
  quietMs: number,
): Promise<void> {
  const model = new PairModel(row.mode);
  for (const a of row.prefix) {
    await pair.act(a);
    model.act(a);
    await pair.until(model.states());
  }
  await pair.until(row.initial);
  beforeAction();
  await pair.act(row.action);
  await pair.until(row.end);
  await new Promise((r) => setTimeout(r, quietMs));
}
