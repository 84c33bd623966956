import type { HandOver, Scan } from './pair-record.ts';

/** Legacy: the standby does not start the service until it takes over. Warm: it runs it, off scan. */
export type RedundancyMode = 'legacy' | 'warm';
/** The node's place in the pair's configuration (not who is active now). */
export type PairRole = 'primary' | 'backup';
/** The service hooks a redundant service may define; each runs once per transition. */
export type Hook = 'startup' | 'shutdown' | 'onScan' | 'offScan';
/** Why a hook runs. */
export type HookReason =
  | 'deploy'
  | 'restart'
  | 'failover'
  | 'takeover'
  | 'shutdown'
  | 'undeploy'
  | 'operator'
  | 'fenced'
  | 'recovered'
  | 'superseded'
  | 'maintenance';

/** Where one node is with one redundant service; transitional phases run effects, then take `next`. */
export type Phase =
  | 'down'
  | 'standby'
  | 'active'
  | 'fenced'
  | 'starting'
  | 'promoting'
  | 'scanning'
  | 'fencing'
  | 'demoting'
  | 'stopping';

const TRANSITIONAL: ReadonlySet<Phase> = new Set([
  'starting',
  'promoting',
  'scanning',
  'fencing',
  'demoting',
  'stopping',
]);

/** The state of one node for one redundant service. */
export interface PairNodeState {
  mode: RedundancyMode;
  role: PairRole;
  phase: Phase;
  /** Where a transitional phase goes once its effects are done. */
  next?: Phase;
  /** The scan state of the tenure (active, or the one a fenced active returns to). */
  scan: Scan;
  /** The term of the current or last tenure. */
  term: number;
  /** Whether the service instance runs here (a warm standby's does, a legacy standby's does not). */
  started: boolean;
}

/** What happens to a node, from its election, its operator or its process. */
export type PairNodeEvent =
  | { type: 'start'; reason: 'deploy' | 'restart' | 'maintenance' }
  | { type: 'elected'; term: number; scan: Scan; reason: HandOver }
  | { type: 'suspect' }
  | { type: 'renewed' }
  | { type: 'lost' }
  | { type: 'failover' }
  | { type: 'scan'; scan: Scan }
  | { type: 'shutdown' }
  | { type: 'undeploy' }
  /** Maintenance: this node steps out of the pair (an active hands over first) until a `start`. */
  | { type: 'withdraw' }
  | { type: 'done' };

/** What the node must do, in order, for a transition. */
export type PairEffect =
  | { type: 'hook'; hook: Hook; reason: HookReason }
  | { type: 'startService' }
  | { type: 'stopService' }
  | { type: 'openIntake' }
  | { type: 'holdIntake' }
  /** Drop the work held here unwritten: another node acts in a newer term, so it is a stale copy. */
  | { type: 'discard' }
  /** Write the final snapshot of every actor, under the term, before the lease is given up. */
  | { type: 'flush' }
  | { type: 'campaign' }
  | { type: 'release'; scan: Scan; reason: HandOver }
  | { type: 'resign' };

/** A transition: the new state, its effects, and whether the event must wait for the current transition. */
export interface PairStep {
  state: PairNodeState;
  effects: PairEffect[];
  /** The event arrived during a transition: feed it again after `done`. */
  deferred?: true;
  /** The event does not apply in this state (e.g. a failover of a standby); nothing changed. */
  ignored?: string;
}

/** A node that has not brought the service up. */
export function initialPairState(mode: RedundancyMode, role: PairRole): PairNodeState {
  return { mode, role, phase: 'down', scan: 'on', term: 0, started: false };
}

/** The state as operators and the document name it. */
export function displayState(s: PairNodeState): string {
  if (s.phase === 'active') return s.scan === 'on' ? 'active on scan' : 'active off scan';
  return s.phase;
}

/** Whether a phase runs effects and then moves on by itself. */
export function isTransitional(phase: Phase): boolean {
  return TRANSITIONAL.has(phase);
}

const hook = (h: Hook, reason: HookReason): PairEffect => ({ type: 'hook', hook: h, reason });

/** Moves to `phase` through a transitional one when there are effects, directly when there are none. */
function go(
  s: PairNodeState,
  via: Phase,
  next: Phase,
  effects: PairEffect[],
  patch: Partial<PairNodeState> = {},
): PairStep {
  const moved = { ...s, ...patch };
  if (effects.length === 0) return { state: { ...moved, phase: next, next: undefined }, effects };
  return { state: { ...moved, phase: via, next }, effects };
}

// What ends the service on this node, in order: off scan first, then the shutdown hook.
function stopping(s: PairNodeState, reason: HookReason, flush: boolean): PairEffect[] {
  const out: PairEffect[] = [{ type: 'holdIntake' }];
  if (s.scan === 'on') out.push(hook('offScan', reason));
  if (flush) out.push({ type: 'flush' });
  out.push(hook('shutdown', reason), { type: 'stopService' });
  return out;
}

// Why a node leaving the pair runs its hooks: a withdrawal is maintenance's.
const leavingReason = (e: 'shutdown' | 'undeploy' | 'withdraw'): HookReason =>
  e === 'withdraw' ? 'maintenance' : e;

// An active leaving the pair here: the service stops, the lease goes in `scan` for `handOver`, the node resigns.
function leave(s: PairNodeState, reason: HookReason, scan: Scan, handOver: HandOver): PairStep {
  const effects: PairEffect[] = [
    ...stopping(s, reason, true),
    { type: 'release', scan, reason: handOver },
    { type: 'resign' },
  ];
  return go(s, 'stopping', 'down', effects, { started: false });
}

/**
 * The transition function of one node for one redundant service: pure, effects as data. Hooks
 * are effects of the transition that runs them, so each runs exactly once per transition, and
 * a transitional phase lasts until the runner reports `done`.
 */
export function pairTransition(s: PairNodeState, e: PairNodeEvent): PairStep {
  if (isTransitional(s.phase)) {
    if (e.type !== 'done') return { state: s, effects: [], deferred: true };
    return { state: { ...s, phase: s.next ?? 'down', next: undefined }, effects: [] };
  }
  const ignore = (why: string): PairStep => ({ state: s, effects: [], ignored: why });
  const warm = s.mode === 'warm';
  switch (s.phase) {
    case 'down':
      if (e.type !== 'start') return ignore('the service is down here');
      // A warm standby runs the service off scan; a legacy one only campaigns.
      return warm
        ? go(
            s,
            'starting',
            'standby',
            [{ type: 'startService' }, hook('startup', e.reason), { type: 'campaign' }],
            {
              started: true,
            },
          )
        : go(s, 'starting', 'standby', [{ type: 'campaign' }]);
    case 'standby':
      switch (e.type) {
        case 'elected': {
          const effects: PairEffect[] = s.started
            ? []
            : [{ type: 'startService' }, hook('startup', e.reason)];
          if (e.scan === 'on') effects.push(hook('onScan', e.reason), { type: 'openIntake' });
          return go(s, 'promoting', 'active', effects, { term: e.term, scan: e.scan, started: true });
        }
        case 'shutdown':
        case 'undeploy':
        case 'withdraw': {
          const reason = leavingReason(e.type);
          // Out of the election first: a lease the partner gives up meanwhile is not taken by a
          // node on its way down (it would hold it, unserved, until it ran out).
          const effects: PairEffect[] = [{ type: 'resign' }];
          if (s.started) effects.push(hook('shutdown', reason), { type: 'stopService' });
          return go(s, 'stopping', 'down', effects, { started: false });
        }
        default:
          return ignore('this node is the standby');
      }
    case 'active':
      switch (e.type) {
        case 'scan':
          if (e.scan === s.scan) return ignore(`already on scan ${e.scan}`);
          return go(
            s,
            'scanning',
            'active',
            e.scan === 'on'
              ? [hook('onScan', 'operator'), { type: 'openIntake' }]
              : [{ type: 'holdIntake' }, hook('offScan', 'operator')],
            { scan: e.scan },
          );
        case 'failover': {
          // The lease goes only once the service is stopped here: the partner never starts beside it.
          const effects = [
            ...stopping(s, 'failover', true),
            { type: 'release', scan: s.scan, reason: 'failover' } as const,
          ];
          if (warm) effects.push({ type: 'startService' }, hook('startup', 'failover'));
          return go(s, 'demoting', 'standby', effects, { started: warm });
        }
        case 'shutdown':
          // The partner inherits off scan, as from an engine taken off scan before it stops.
          return leave(s, 'shutdown', 'off', 'shutdown');
        case 'undeploy':
          return leave(s, 'undeploy', s.scan, 'undeploy');
        case 'withdraw':
          // As a forced failover for the partner (it takes the service in this tenure's scan
          // state), but this node then leaves the pair: it is not elected until it starts again.
          return leave(s, 'maintenance', s.scan, 'failover');
        case 'suspect':
          return go(
            s,
            'fencing',
            'fenced',
            s.scan === 'on' ? [{ type: 'holdIntake' }, hook('offScan', 'fenced')] : [{ type: 'holdIntake' }],
          );
        case 'lost':
          return superseded(s, s.scan === 'on');
        default:
          return ignore('this node is the active');
      }
    case 'fenced':
      switch (e.type) {
        case 'renewed':
          return go(
            s,
            'scanning',
            'active',
            s.scan === 'on' ? [hook('onScan', 'recovered'), { type: 'openIntake' }] : [],
          );
        case 'lost':
          return superseded(s, false);
        case 'shutdown':
        case 'undeploy':
        case 'withdraw':
          return go(
            s,
            'stopping',
            'down',
            [
              hook('shutdown', leavingReason(e.type)),
              { type: 'stopService' },
              { type: 'release', scan: s.scan, reason: e.type === 'withdraw' ? 'failover' : e.type },
              { type: 'resign' },
            ],
            { started: false },
          );
        default:
          return ignore('this node is fenced: it may have lost its lease');
      }
    default:
      return ignore(`no transition from ${s.phase}`);
  }
}

// Another node holds the lease now: stop acting at once and drop the stale copy of the work
// (the new active restores it from the store); a legacy standby must not keep it running.
function superseded(s: PairNodeState, onScan: boolean): PairStep {
  const effects: PairEffect[] = [{ type: 'holdIntake' }];
  if (onScan) effects.push(hook('offScan', 'superseded'));
  effects.push({ type: 'discard' });
  if (s.mode === 'legacy') effects.push(hook('shutdown', 'superseded'), { type: 'stopService' });
  return go(s, 'demoting', 'standby', effects, { started: s.mode === 'warm' });
}
