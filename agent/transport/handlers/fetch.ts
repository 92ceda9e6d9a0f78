// Fetch: the agent pulls a release from an artifact store (a URL the
// coordinator names) into its store, under Upload's rules (the download
// itself is agent/storage/download.ts). Progress streams back while the bytes
// come; the last message has done = true.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';

export interface FetchHandlerDeps {
  log: Logger;
}

export function fetchHandlers(_deps: FetchHandlerDeps): Pick<AgentHandlers, 'Fetch'> {
  return {
    Fetch: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'this agent cannot fetch from an artifact store yet; the coordinator pushes instead' }),
  };
}
