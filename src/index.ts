// The public surface of relup. Everything not exported here is internal.

// actors and supervision
export { ActorHost, type ActorHostOptions, type VersionedSnapshot } from './actors/actor-host.ts';
export type { BulkFailure, BulkResult } from './actors/bulk-result.ts';
export { bulkResume, bulkSuspend } from './actors/bulk-suspend.ts';
export type { Child, ExitReason } from './actors/child.ts';
export type { ChildSpec } from './actors/child-spec.ts';
export { type Supervisor, startSupervisor } from './actors/supervisor.ts';
export type { SupervisorOptions } from './actors/supervisor-options.ts';
export { signVerdict } from './control/barrier-signing.ts';
// operators
export { clusterUpgrade } from './control/cluster-upgrade.ts';
export { ControlClient } from './control/control-client.ts';
export { type ControlOptions, type ControlServer, startControlServer } from './control/control-server.ts';
export { registerCommand } from './control/default-commands.ts';
export { discover } from './control/discovery.ts';
export { signCommand } from './control/signature.ts';
// errors
export { type ErrorCode, ErrorCodes, RelupError, renderError } from './errors.ts';
// services and clients
export { createDeploymentAuth, type DeploymentAuth } from './nats/deployment-auth.ts';
export { DEFAULT_LEASE_TIMING, type LeaseTiming } from './nats/lease-timing.ts';
export { subjects } from './nats/subjects.ts';
export { HOLDER_HEADER, readTerm, stampTerm, TERM_HEADER, type TermStamp } from './nats/term-header.ts';
// the node
export type { NodeOptions, NodeStatus } from './node/node-types.ts';
export { RelupNode, startNode } from './node/relup-node.ts';
export { planTransition } from './node/upgrade/plan-transition.ts';
export type { UpgradeRequest } from './node/upgrade/upgrade.ts';
// redundant pairs
export { type ElectionEvent, type ElectionOptions, PairElection } from './redundancy/election.ts';
export { type Fence, FencedKv, type FencedValue } from './redundancy/fenced-kv.ts';
export { PairControl, pairSubjects } from './redundancy/pair-control.ts';
export {
  displayState,
  type Hook,
  type HookReason,
  initialPairState,
  type PairEffect,
  type PairNodeEvent,
  type PairNodeState,
  type PairRole,
  pairTransition,
  type RedundancyMode,
} from './redundancy/pair-machine.ts';
export type { PairRecord } from './redundancy/pair-record.ts';
export {
  type HookContext,
  type PairHooks,
  type PairHost,
  PairRunner,
  type PairRunnerOptions,
  type PairStatus,
  type PairTransitionEvent,
} from './redundancy/pair-runner.ts';
export { type Admission, TermGuard } from './redundancy/term-guard.ts';
// releases
export { ensureRelease, fetchRelease } from './release/fetch-release.ts';
export { type ReleaseManifest, readManifest, sealRelease } from './release/manifest.ts';
export { publishRelease } from './release/object-store.ts';
export { checkReleaseSignature, signRelease } from './release/release-signature.ts';
// the relup language
export { compileRelup, compileRelupFile } from './relup/compile.ts';
export { formatPlan } from './relup/format-plan.ts';
export type { Instruction, Plan, Step } from './relup/instruction.ts';
export { createRegistry, type Registry } from './relup/registry.ts';
export type { UpgradeRuntime } from './relup/runtime.ts';
export type { UpgradeReport } from './relup/upgrade-report.ts';
export { Session, type SessionOptions } from './services/client.ts';
export {
  type CodeChangeArgs,
  defineService,
  type PairHookContext,
  type RedundancyHooks,
  type RestartContext,
  type RestartHook,
  type ServiceDefinition,
} from './services/define-service.ts';
export type { Effect } from './services/effects.ts';
export type { SessionCredentials, SessionSigner } from './services/session-credentials.ts';
export type { Incarnation } from './services/snapshot-store.ts';
export type { ComponentRestartModes, RestartMode } from './services/state-persistence.ts';
