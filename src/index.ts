// The public surface of relup. Everything not exported here is internal.
export { ActorHost, type ActorHostOptions, type VersionedSnapshot } from './actors/actor-host.ts';
export type { BulkFailure, BulkResult } from './actors/bulk-result.ts';
export { bulkResume, bulkSuspend } from './actors/bulk-suspend.ts';
export type { Child, ExitReason } from './actors/child.ts';
export { type ErrorCode, ErrorCodes, RelupError, renderError } from './errors.ts';
export { subjects } from './nats/subjects.ts';
export { Session, type SessionOptions } from './services/client.ts';
export { type CodeChangeArgs, defineService, type ServiceDefinition } from './services/define-service.ts';
export type { Effect } from './services/effects.ts';
