// Lock and Unlock: deploy leases per app on this agent.
import * as grpc from '@grpc/grpc-js';
import type { Agent } from '../agent.js';
import type { AgentHandlers } from '../../proto/gen/slipway/v1/Agent.js';

export function lockHandlers(_agent: Agent): Pick<AgentHandlers, 'Lock' | 'Unlock'> {
  const pending = (name: string) => (_call: unknown, cb: grpc.sendUnaryData<never>) =>
    cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not available on this agent yet` });
  return { Lock: pending('Lock'), Unlock: pending('Unlock') };
}
