// Logs: the last lines of an app's output, then (with follow) new lines as
// they are written, until the client goes.
import type * as grpc from '@grpc/grpc-js';
import { serverStream } from '../rpc.js';
import { existingApp, type AppDirectory } from './common.js';
import { AppPaths } from '../../paths.js';
import { tailLog, follow } from '../../runtime/log-reader.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { LogsRequest__Output } from '../../../proto/gen/slipway/v1/LogsRequest.js';
import type { LogLine } from '../../../proto/gen/slipway/v1/LogLine.js';

export interface LogHandlerDeps {
  apps: Pick<AppDirectory, 'hasApp'>;
  stateDir: string;
  log: Logger;
}

export function logHandlers(deps: LogHandlerDeps): Pick<AgentHandlers, 'Logs'> {
  return {
    Logs: serverStream(deps.log, 'Logs', async (req: LogsRequest__Output, call: grpc.ServerWritableStream<LogsRequest__Output, LogLine>) => {
      await existingApp(deps.apps, req.app);
      const file = new AppPaths(deps.stateDir, req.app).appLog;
      const n = Math.min(req.lines || 100, 10_000);
      for (const line of await tailLog(file, n)) call.write({ line });
      if (!req.follow) return;
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      call.on('close', () => ac.abort());
      await follow(file, (lines) => { for (const line of lines) call.write({ line }); }, ac.signal);
    }),
  };
}
