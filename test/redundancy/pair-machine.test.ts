import { describe, expect, it } from 'vitest';
import {
  initialPairState,
  isTransitional,
  type PairNodeEvent,
  type PairNodeState,
  type Phase,
  pairTransition,
} from '../../src/redundancy/pair-machine.ts';
import { PairModel } from './pair-model.ts';
import { SHUTDOWN_TABLE } from './shutdown-table.ts';

describe('redundancy - the document table against the pure pair model', () => {
  for (const row of SHUTDOWN_TABLE) {
    it(`redundancy - ${row.mode} - ${row.action}`, () => {
      const m = new PairModel(row.mode);
      for (const a of row.prefix) m.act(a);
      expect(m.states()).toEqual(row.initial);
      m.clearHooks();
      m.act(row.action);
      expect(m.states()).toEqual(row.end);
      expect(m.hooks).toEqual(row.hooks);
      // The document's shutdown column, read off the hooks that ran.
      expect({
        s1: m.hooks.s1.some((h) => h.startsWith('shutdown:')),
        s2: m.hooks.s2.some((h) => h.startsWith('shutdown:')),
      }).toEqual(row.shutdown);
      // Quiet after: nothing more happens without another action.
      const before = JSON.stringify([m.nodes, m.hooks, m.terms]);
      m.settle();
      expect(JSON.stringify([m.nodes, m.hooks, m.terms])).toBe(before);
      // Terms only grow.
      expect([...m.terms].sort((a, b) => a - b)).toEqual(m.terms);
      expect(new Set(m.terms).size).toBe(m.terms.length);
    });
  }

  it('the table has 9 actions in each of the 2 modes', () => {
    expect(SHUTDOWN_TABLE).toHaveLength(18);
    for (const mode of ['legacy', 'warm'])
      expect(new Set(SHUTDOWN_TABLE.filter((r) => r.mode === mode).map((r) => r.action)).size).toBe(9);
  });
});

describe('redundancy - the node transition function', () => {
  const events: PairNodeEvent[] = [
    { type: 'start', reason: 'deploy' },
    { type: 'start', reason: 'restart' },
    { type: 'elected', term: 7, scan: 'on', reason: 'takeover' },
    { type: 'elected', term: 7, scan: 'off', reason: 'failover' },
    { type: 'suspect' },
    { type: 'renewed' },
    { type: 'lost' },
    { type: 'failover' },
    { type: 'scan', scan: 'on' },
    { type: 'scan', scan: 'off' },
    { type: 'shutdown' },
    { type: 'undeploy' },
    { type: 'withdraw' },
    { type: 'start', reason: 'maintenance' },
  ];

  // Every state reachable from down, both modes, both roles, by any sequence of events.
  function reachable(): PairNodeState[] {
    const seen = new Map<string, PairNodeState>();
    const queue: PairNodeState[] = [];
    for (const mode of ['legacy', 'warm'] as const)
      for (const role of ['primary', 'backup'] as const) queue.push(initialPairState(mode, role));
    while (queue.length > 0) {
      const s = queue.shift()!;
      const k = JSON.stringify(s);
      if (seen.has(k)) continue;
      seen.set(k, s);
      for (const e of isTransitional(s.phase) ? [{ type: 'done' } as const] : events)
        queue.push(pairTransition(s, e).state);
    }
    return [...seen.values()];
  }

  it('every hook runs at most once per transition, events wait during one, ignored events change nothing', () => {
    for (const s of reachable())
      for (const e of events) {
        const step = pairTransition(s, e);
        const hooks = step.effects.flatMap((x) => (x.type === 'hook' ? [x.hook] : []));
        expect(new Set(hooks).size).toBe(hooks.length);
        if (isTransitional(s.phase)) expect(step.deferred).toBe(true);
        if (step.ignored) expect(step.state).toBe(s);
      }
  });

  it('intake opens only as the last effect of becoming active on scan, and closes first on the way out', () => {
    for (const s of reachable())
      for (const e of events) {
        const step = pairTransition(s, e);
        const open = step.effects.findIndex((x) => x.type === 'openIntake');
        if (open >= 0) {
          expect(open).toBe(step.effects.length - 1);
          expect(step.state).toMatchObject({ next: 'active', scan: 'on' });
        }
        const hold = step.effects.findIndex((x) => x.type === 'holdIntake');
        if (hold >= 0) expect(hold).toBe(0);
        // The lease is given up only after the shutdown hook ran and the service stopped here.
        const release = step.effects.findIndex((x) => x.type === 'release');
        const stop = step.effects.findIndex((x) => x.type === 'stopService');
        if (release >= 0) expect(stop).toBeGreaterThanOrEqual(0);
        if (release >= 0) expect(stop).toBeLessThan(release);
      }
  });

  it('a node that learns another holds a newer term drops its copy of the work unwritten, and never flushes it', () => {
    let checked = 0;
    for (const s of reachable())
      for (const e of events) {
        if (e.type !== 'lost' || isTransitional(s.phase)) continue;
        const step = pairTransition(s, e);
        if (step.ignored) continue;
        checked++;
        const types = step.effects.map((x) => x.type);
        expect(types).toContain('discard');
        expect(types).not.toContain('flush');
        // Before the shutdown hook and the stop of a legacy node: a stopping service parks what it holds.
        const stop = types.indexOf('stopService');
        if (stop >= 0) expect(types.indexOf('discard')).toBeLessThan(stop);
      }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('a legacy standby never runs the service and a warm one always does', () => {
    const stable: Phase[] = ['down', 'standby', 'active', 'fenced'];
    for (const s of reachable()) {
      if (!stable.includes(s.phase)) continue;
      if (s.phase === 'standby') expect(s.started).toBe(s.mode === 'warm');
      if (s.phase === 'down') expect(s.started).toBe(false);
      if (s.phase === 'active' || s.phase === 'fenced') expect(s.started).toBe(true);
    }
  });

  it('withdraw (maintenance): an active hands the service over on scan and leaves the pair; a standby leaves; start rejoins', () => {
    const warm = initialPairState('warm', 'primary');
    const active = { ...warm, phase: 'active' as const, started: true, term: 3, scan: 'on' as const };
    const out = pairTransition(active, { type: 'withdraw' });
    expect(out.effects).toEqual([
      { type: 'holdIntake' },
      { type: 'hook', hook: 'offScan', reason: 'maintenance' },
      { type: 'flush' },
      { type: 'hook', hook: 'shutdown', reason: 'maintenance' },
      { type: 'stopService' },
      // As a forced failover for the partner: it takes the service on scan.
      { type: 'release', scan: 'on', reason: 'failover' },
      { type: 'resign' },
    ]);
    const down = pairTransition(out.state, { type: 'done' }).state;
    expect(down).toMatchObject({ phase: 'down', started: false });
    const standby = { ...warm, phase: 'standby' as const, started: true };
    expect(pairTransition(standby, { type: 'withdraw' }).effects).toEqual([
      { type: 'resign' },
      { type: 'hook', hook: 'shutdown', reason: 'maintenance' },
      { type: 'stopService' },
    ]);
    const legacy = { ...initialPairState('legacy', 'backup'), phase: 'standby' as const };
    const gone = pairTransition(legacy, { type: 'withdraw' });
    expect(gone.effects).toEqual([{ type: 'resign' }]);
    const out2 = pairTransition(gone.state, { type: 'done' }).state;
    expect(out2).toMatchObject({ phase: 'down', started: false });
    expect(pairTransition(out2, { type: 'withdraw' }).ignored).toMatch(/down/);
    expect(pairTransition(down, { type: 'start', reason: 'maintenance' }).effects).toEqual([
      { type: 'startService' },
      { type: 'hook', hook: 'startup', reason: 'maintenance' },
      { type: 'campaign' },
    ]);
  });

  it('a fenced active does not take a forced failover and stays fenced', () => {
    const warm = initialPairState('warm', 'primary');
    const active = { ...warm, phase: 'active' as const, started: true, term: 3 };
    const fencing = pairTransition(active, { type: 'suspect' });
    expect(fencing.effects).toEqual([
      { type: 'holdIntake' },
      { type: 'hook', hook: 'offScan', reason: 'fenced' },
    ]);
    const fenced = pairTransition(fencing.state, { type: 'done' }).state;
    expect(fenced.phase).toBe('fenced');
    expect(pairTransition(fenced, { type: 'failover' }).ignored).toMatch(/fenced/);
    const back = pairTransition(fenced, { type: 'renewed' });
    expect(back.effects).toEqual([
      { type: 'hook', hook: 'onScan', reason: 'recovered' },
      { type: 'openIntake' },
    ]);
  });
});
