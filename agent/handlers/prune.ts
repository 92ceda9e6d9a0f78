// Prune: removing releases beyond keep_releases, and leftovers.
import * as grpc from '@grpc/grpc-js';
import type { Agent } from '../agent.js';
import type { AgentHandlers } from '../../proto/gen/slipway/v1/Agent.js';

export function pruneHandlers(_agent: Agent): Pick<AgentHandlers, 'Prune'> {
  return {
    Prune: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'Prune is not available on this agent yet' }),
  };
}
