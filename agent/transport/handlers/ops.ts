// RunTask, GetEnv, SetEnv, History: running a host day to day.
import type * as grpc from '@grpc/grpc-js';
import { invalid } from '../../../common/errors.js';
import { appNameProblem, versionProblem, sha256Problem } from '../../../common/names.js';
import { unary, serverStream } from '../rpc.js';
import { check, existingApp, type AppDirectory } from './common.js';
import { AppPaths } from '../../paths.js';
import { readSharedEnv, changeSharedEnv } from '../../runtime/shared-env.js';
import type { History } from '../../history.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { RunTaskRequest__Output } from '../../../proto/gen/slipway/v1/RunTaskRequest.js';
import type { TaskOutput } from '../../../proto/gen/slipway/v1/TaskOutput.js';

export interface OpsHandlerDeps {
  apps: Pick<AppDirectory, 'hasApp' | 'runtime'>;
  history: Pick<History, 'append' | 'read'>;
  stateDir: string;
  log: Logger;
}

export function opsHandlers(deps: OpsHandlerDeps): Pick<AgentHandlers, 'RunTask' | 'GetEnv' | 'SetEnv' | 'History'> {
  const log = deps.log;
  return {
    RunTask: serverStream(log, 'RunTask', async (req: RunTaskRequest__Output, call: grpc.ServerWritableStream<RunTaskRequest__Output, TaskOutput>) => {
      await existingApp(deps.apps, req.app);
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(req.task)) throw invalid(`"${req.task.slice(0, 80)}" is not a task name`);
      const ref = req.version || req.sha256 ? { version: req.version, sha256: req.sha256 } : undefined;
      if (ref) check(versionProblem(ref.version) ?? sha256Problem(ref.sha256));
      const rt = await deps.apps.runtime(req.app);
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      const t0 = Date.now();
      const { release, result } = await rt.runTask(req.task, ref, (stream, line) => {
        if (!call.cancelled) call.write({ line, stream, done: false, exit_code: 0, message: '' });
      }, ac.signal);
      const how = result.code === null ? (ac.signal.aborted ? 'was cancelled' : 'was killed') : `exited with code ${result.code}`;
      await deps.history.append({
        app: req.app, action: 'task', who: req.requested_by, to_version: release.version, result: result.code === 0 ? 'done' : 'failed',
        duration_s: (Date.now() - t0) / 1000, message: `${req.task} ${how}`,
      });
      if (!call.cancelled) call.write({ line: '', stream: '', done: true, exit_code: result.code ?? -1, message: `task ${req.task} in ${release.version} ${how}` });
    }),

    GetEnv: unary(log, 'GetEnv', async (req) => {
      await existingApp(deps.apps, req.app);
      return { env: await readSharedEnv(new AppPaths(deps.stateDir, req.app).sharedEnv) };
    }),

    SetEnv: unary(log, 'SetEnv', async (req) => {
      await existingApp(deps.apps, req.app);
      const env = await changeSharedEnv(new AppPaths(deps.stateDir, req.app).sharedEnv, req.set, req.unset);
      const keys = [...Object.keys(req.set).map((k) => `set ${k}`), ...req.unset.map((k) => `unset ${k}`)];
      log.info({ app: req.app, keys, by: req.requested_by }, 'shared/env changed; it applies at the next start or activation');
      await deps.history.append({ app: req.app, action: 'env', who: req.requested_by, message: keys.join(', ') });
      return { env };
    }),

    History: unary(log, 'History', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      return { entries: await deps.history.read(req.app, Math.min(req.limit || 100, 10_000)) };
    }),
  };
}
