// The gRPC handlers of slipway.v1.Agent, assembled from their groups in
// handlers/: each validates the request, calls the part of the agent it was
// given, and shapes the answer. No decisions here. The agent (agent/agent.ts)
// builds the deps; nothing under transport/ knows the Agent class.
import { appHandlers, type AppHandlerDeps } from './handlers/apps.js';
import { statusHandlers, type StatusHandlerDeps } from './handlers/status.js';
import { logHandlers, type LogHandlerDeps } from './handlers/logs.js';
import { releaseHandlers, type ReleaseHandlerDeps } from './handlers/releases.js';
import { uploadHandlers, type UploadHandlerDeps } from './handlers/upload.js';
import { fetchHandlers, type FetchHandlerDeps } from './handlers/fetch.js';
import { opsHandlers, type OpsHandlerDeps } from './handlers/ops.js';
import { lockHandlers, type LockHandlerDeps } from './handlers/locks.js';
import { pruneHandlers, type PruneHandlerDeps } from './handlers/prune.js';
import { watchHandlers, type WatchHandlerDeps } from './handlers/watch.js';
import type { AgentHandlers } from '../../proto/gen/slipway/v1/Agent.js';

/** Everything the handler groups need, together. */
export type ServiceDeps = AppHandlerDeps & StatusHandlerDeps & LogHandlerDeps & ReleaseHandlerDeps
  & UploadHandlerDeps & FetchHandlerDeps & OpsHandlerDeps & LockHandlerDeps & PruneHandlerDeps
  & WatchHandlerDeps;

export function handlers(deps: ServiceDeps): AgentHandlers {
  return {
    ...appHandlers(deps),
    ...statusHandlers(deps),
    ...logHandlers(deps),
    ...releaseHandlers(deps),
    ...uploadHandlers(deps),
    ...fetchHandlers(deps),
    ...opsHandlers(deps),
    ...lockHandlers(deps),
    ...pruneHandlers(deps),
    ...watchHandlers(deps),
  };
}
