import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ChildInfo } from '../actors/supervisor.ts';
import type { NatsOptions } from '../nats/connect.ts';
import type { PairStatus } from '../redundancy/pair-runner.ts';
import type { ReleaseManifest } from '../release/manifest.ts';
import type { Registry } from '../relup/registry.ts';
import type { ServiceStatsSnapshot } from '../services/service-stats.ts';
import type { SessionSigner } from '../services/session-credentials.ts';
import type { LifecycleState, MaintenanceEntry, MaintenanceReason } from './lifecycle.ts';
import type { JobStats } from './scheduler.ts';

/** Options of a relup node. */
export interface NodeOptions {
  /** A NATS URL (or list), connection options, or a connection to share (not closed on stop). */
  nats: string | NatsOptions | NatsConnection;
  /** Unique in the cluster; a subject-safe token. */
  nodeId: string;
  /** The folder holding `<version>/release.json`. */
  releasesDir: string;
  /** The version to boot; default the cluster's permanent release, else the newest on disk. */
  release?: string;
  /** Subject prefix, default `relup`. */
  prefix?: string;
  logger?: Logger;
  /** Heartbeat period for named-actor ownership, default 1000 ms (lease: 3 beats). */
  heartbeatMs?: number;
  /** The folder holding `<release name>/<from>-<to>.yaml`, default `./relups`. */
  relupsDir?: string;
  /** Instructions and modifications for relups, default the built-ins (add your own to one). */
  instructions?: Registry;
  /** Tokens that prove a super-admin at connect (`{ role: 'superadmin', token }`); they pass maintenance. */
  superAdminTokens?: string[];
  /** Period of the write-behind flush of kept sessions and named actors (restart modes), default 500 ms; 0: off. */
  persistIntervalMs?: number;
  /** How long a service's cleanUpOnRestart or startUpOnRestart may take at a restart, default 30 s. */
  restartHookTimeoutMs?: number;
  /** How many upgrade reports the node's journal keeps, default 50. */
  upgradeHistory?: number;
  /** Copies JetStream keeps of relup's buckets, default what the server reports: 1 alone, up to 3 in a cluster. */
  replicas?: number;
  /** A secret every node holds and no client does: named actors then take only nodes' messages. */
  clusterKey?: string;
  /** The account signing key that gives each session NATS credentials of its own (JWT auth). */
  sessionSigner?: SessionSigner;
  /** Public nkeys of operators trusted to sign releases: boot, fetch and upgrade only to a release one of them signed. */
  releaseKeys?: string[];
}

/** The release a node runs. */
export interface RunningRelease {
  version: string;
  dir: string;
  manifest: ReleaseManifest;
}

/** What `status` reports about a node. */
export interface NodeStatus {
  node: string;
  state: LifecycleState;
  maintenance: MaintenanceEntry[];
  /** A maintenance whose grace counts down now (`maintenance off` calls it off). */
  pendingMaintenance?: { message: string; endsAt: string };
  jobs: JobStats[];
  held: string[];
  disabled: string[];
  release: string;
  /** This run of the node id: 1 on its first boot against this store, one more per boot since. */
  incarnation: number;
  services: {
    name: string;
    version: string;
    sessions: number;
    acceptor: { ok: boolean; suspended: boolean };
    /**
     * How its kept state is written: `durable` (a reply means it is stored), `write-behind`
     * (a crash loses up to `lossWindowMs` of changes), or `none` (nothing is kept across restarts).
     */
    state: { durability: 'durable' | 'write-behind' | 'none'; lossWindowMs: number | null };
    /** Requests its channels answered and their latency histogram, totals since it started. */
    stats: ServiceStatsSnapshot;
  }[];
  /** The root supervisor's children (one per service) with their restart counts. */
  supervision: { name: string; children: ChildInfo[] };
  /** The redundant pairs this node is part of: role, state, term, holder, last transition. */
  redundancy?: PairStatus[];
  actors: Record<string, number>;
  namedActors: string[];
  loadedModules: number;
  loadedVersions: string[];
  upgrading: string | undefined;
  lastUpgrade: { id: string; outcome: string; from: string; to: string; pauseMs?: number } | undefined;
}

/** A high-priority script that failed an upgrade: what `retry` and `skip` act on. */
export interface FailedScript {
  to: string;
  step: string;
  module: string;
  upgrade: string;
}

/** How to enter maintenance: notify → grace (with countdown) → notify → disconnect. */
export interface MaintenanceRequest {
  message?: string;
  /** How long clients have before they are disconnected (0: at once). */
  graceMs?: number;
  /** How often the countdown is pushed during the grace period. */
  tickMs?: number;
  /** When the maintenance is expected to end (ISO 8601), told to refused clients. */
  until?: string;
  reason?: MaintenanceReason;
  details?: unknown;
}

/** What entering maintenance did. */
export interface MaintenanceResult {
  state: string;
  notified: number;
  disconnected: number;
  stopped: string[];
}

/** What leaving maintenance did. */
export interface LeaveResult {
  state: string;
  started: string[];
}

/** Which sessions `disconnectClients` ends. */
export interface DisconnectOptions {
  reason?: string;
  keepSuperAdmins?: boolean;
  except?: string[];
}
