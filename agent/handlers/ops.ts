// RunTask, GetEnv, SetEnv, History: running a host day to day.
import * as grpc from '@grpc/grpc-js';
import type { Agent } from '../agent.js';
import type { AgentHandlers } from '../../proto/gen/slipway/v1/Agent.js';

export function opsHandlers(_agent: Agent): Pick<AgentHandlers, 'RunTask' | 'GetEnv' | 'SetEnv' | 'History'> {
  const unary = (name: string) => (_call: unknown, cb: grpc.sendUnaryData<never>) =>
    cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not available on this agent yet` });
  return {
    RunTask: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'RunTask is not available on this agent yet' }),
    GetEnv: unary('GetEnv'), SetEnv: unary('SetEnv'), History: unary('History'),
  };
}
