import { assign, setup } from 'xstate';

/** Why a node is in maintenance: the automatic reasons, plus the manual one. */
export type MaintenanceReason = 'manual' | 'dependency_error' | 'upgrade_failed' | 'script_failed';

/** One reason a node is in maintenance, with what an operator needs to act on it. */
export interface MaintenanceEntry {
  reason: MaintenanceReason;
  message: string;
  /** When the maintenance is expected to end (ISO), if known. */
  until?: string;
  details?: unknown;
  since: string;
}

/** Events of the node lifecycle. */
export type LifecycleEvent =
  | { type: 'INITIALIZED' }
  | { type: 'READY' }
  | { type: 'UPGRADE_START'; upgrade: string }
  | { type: 'UPGRADE_END'; upgrade: string }
  | { type: 'MAINTENANCE_ON'; entry: MaintenanceEntry }
  | { type: 'MAINTENANCE_OFF'; reason: MaintenanceReason }
  | { type: 'STOP' }
  | { type: 'STOPPED' };

/** The lifecycle's context: maintenance reasons (several may hold at once) and the upgrade running. */
export interface LifecycleContext {
  maintenance: MaintenanceEntry[];
  upgrade: string | undefined;
}

/**
 * The node lifecycle: booting → initialized → ready ⇄ upgrading; maintenance while any reason
 * holds (it ends when the last reason is cleared);
 * stopping → stopped. Upgrades may also run in maintenance (that is how a broken release is fixed).
 */
export const lifecycleMachine = setup({
  types: {} as { context: LifecycleContext; events: LifecycleEvent },
  actions: {
    addReason: assign({
      maintenance: ({ context, event }) =>
        event.type === 'MAINTENANCE_ON'
          ? [...context.maintenance.filter((m) => m.reason !== event.entry.reason), event.entry]
          : context.maintenance,
    }),
    removeReason: assign({
      maintenance: ({ context, event }) =>
        event.type === 'MAINTENANCE_OFF'
          ? context.maintenance.filter((m) => m.reason !== event.reason)
          : context.maintenance,
    }),
    startUpgrade: assign({
      upgrade: ({ event }) => (event.type === 'UPGRADE_START' ? event.upgrade : undefined),
    }),
    endUpgrade: assign({ upgrade: () => undefined }),
  },
  guards: {
    lastReason: ({ context, event }) =>
      event.type === 'MAINTENANCE_OFF' && context.maintenance.every((m) => m.reason === event.reason),
  },
}).createMachine({
  id: 'node-lifecycle',
  context: { maintenance: [], upgrade: undefined },
  initial: 'booting',
  on: {
    MAINTENANCE_ON: { target: '.maintenance', actions: 'addReason' },
    STOP: '.stopping',
  },
  states: {
    booting: { on: { INITIALIZED: 'initialized' } },
    initialized: { on: { READY: 'ready' } },
    ready: { on: { UPGRADE_START: { target: 'upgrading', actions: 'startUpgrade' } } },
    upgrading: { on: { UPGRADE_END: { target: 'ready', actions: 'endUpgrade' } } },
    maintenance: {
      on: {
        MAINTENANCE_OFF: [
          { guard: 'lastReason', target: 'ready', actions: 'removeReason' },
          { actions: 'removeReason' },
        ],
        UPGRADE_START: { actions: 'startUpgrade' },
        UPGRADE_END: { actions: 'endUpgrade' },
      },
    },
    stopping: { on: { STOPPED: 'stopped', MAINTENANCE_ON: {}, STOP: {} } },
    stopped: { type: 'final' },
  },
});

/** The lifecycle states an operator sees. */
export type LifecycleState =
  | 'booting'
  | 'initialized'
  | 'ready'
  | 'upgrading'
  | 'maintenance'
  | 'stopping'
  | 'stopped';
