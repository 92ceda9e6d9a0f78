// RunTask (and RunTaskStream, its stdin streamed), GetEnv, SetEnv, History: running a host day to day.
import type * as grpc from '@grpc/grpc-js';
import { invalid } from '../../../common/errors.js';
import { appNameProblem, versionProblem, sha256Problem } from '../../../common/names.js';
import { unary, serverStream, toStatus } from '../rpc.js';
import { check, existingApp, requester, type AppDirectory } from './common.js';
import { AppPaths, appsDir } from '../../paths.js';
import { readSharedEnv, changeSharedEnv } from '../../runtime/shared-env.js';
import type { History } from '../../history.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { RunTaskRequest__Output } from '../../../proto/gen/slipway/v1/RunTaskRequest.js';
import type { TaskOutput } from '../../../proto/gen/slipway/v1/TaskOutput.js';
import type { TaskInput__Output } from '../../../proto/gen/slipway/v1/TaskInput.js';
import { PassThrough, type Readable } from 'node:stream';

export interface OpsHandlerDeps {
  apps: Pick<AppDirectory, 'hasApp' | 'runtime'>;
  history: Pick<History, 'append' | 'read'>;
  stateDir: string;
  log: Logger;
}

/** At most 256 arguments of at most 64 KiB each, no NUL (exec cannot pass one). */
export function taskArgsProblem(args: readonly string[]): string | undefined {
  if (args.length > 256) return `a task takes at most 256 arguments, not ${args.length}`;
  const i = args.findIndex((a) => a.length > 65_536 || a.includes('\0'));
  if (i >= 0) return `task argument ${i + 1} ${args[i].includes('\0') ? 'holds a NUL byte, which a command line cannot pass' : 'is longer than 64 KiB'}; pass large input on stdin`;
  return undefined;
}

export function opsHandlers(deps: OpsHandlerDeps): Pick<AgentHandlers, 'RunTask' | 'RunTaskStream' | 'GetEnv' | 'SetEnv' | 'History'> {
  const log = deps.log;
  return {
    RunTask: serverStream(log, 'RunTask', (req: RunTaskRequest__Output, call: grpc.ServerWritableStream<RunTaskRequest__Output, TaskOutput>) =>
      runTaskCall(deps, req, call, req.stdin.length > 0 ? req.stdin : undefined)),

    // The first message names the task; the next ones are its stdin, passed on as they come (with
    // backpressure: the call is paused while the task does not read); a half-close ends the input.
    RunTaskStream: (call: grpc.ServerDuplexStream<TaskInput__Output, TaskOutput>) => {
      const stdin = new PassThrough({ highWaterMark: 1 << 20 });
      let started = false;
      call.on('data', (m: TaskInput__Output) => {
        if (!started) {
          started = true;
          if (!m.start) {
            call.emit('error', toStatus(invalid('the first message of RunTaskStream names the task (start); none came'), log, 'RunTaskStream'));
            return;
          }
          runTaskCall(deps, m.start, call, stdin).then(() => call.end(), (err: unknown) => call.emit('error', toStatus(err, log, 'RunTaskStream')));
          return;
        }
        if (m.stdin.length > 0 && !stdin.write(m.stdin)) {
          call.pause();
          stdin.once('drain', () => call.resume());
        }
        if (m.stdin_end) stdin.end();
      });
      call.on('end', () => stdin.end());
      call.on('error', () => stdin.destroy());
    },

    // An app not deployed here yet has no settings; they may be set before its first deploy (a BEAM's cookie and node name).
    GetEnv: unary(log, 'GetEnv', async (req) => {
      check(appNameProblem(req.app));
      return { env: await readSharedEnv(new AppPaths(deps.stateDir, req.app).sharedEnv) };
    }),

    SetEnv: unary(log, 'SetEnv', async (req, call) => {
      check(appNameProblem(req.app));
      const first = !(await deps.apps.hasApp(req.app));
      const env = await changeSharedEnv(new AppPaths(deps.stateDir, req.app).sharedEnv, req.set, req.unset, appsDir(deps.stateDir));
      const keys = [...Object.keys(req.set).map((k) => `set ${k}`), ...req.unset.map((k) => `unset ${k}`)];
      const who = requester(call, req.requested_by);
      log.info({ app: req.app, keys, by: who }, first ? 'shared/env set before the app\'s first deploy; it applies at its first start'
        : 'shared/env changed; it applies at the next start or activation');
      await deps.history.append({ app: req.app, action: 'env', who, message: keys.join(', ') });
      return { env };
    }),

    History: unary(log, 'History', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      return { entries: await deps.history.read(req.app, Math.min(req.limit || 100, 10_000)) };
    }),
  };
}

/** Runs the task a RunTask or RunTaskStream call asked for, its output streamed back, the last message its exit code. */
async function runTaskCall(deps: OpsHandlerDeps, req: RunTaskRequest__Output, call: grpc.ServerWritableStream<unknown, TaskOutput> | grpc.ServerDuplexStream<unknown, TaskOutput>, stdin: Buffer | Readable | undefined): Promise<void> {
  await existingApp(deps.apps, req.app);
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(req.task)) throw invalid(`"${req.task.slice(0, 80)}" is not a task name`);
  const ref = req.version || req.sha256 ? { version: req.version, sha256: req.sha256 } : undefined;
  if (ref) check(versionProblem(ref.version) ?? sha256Problem(ref.sha256));
  check(taskArgsProblem(req.args));
  const who = requester(call, req.requested_by);
  const rt = await deps.apps.runtime(req.app);
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const t0 = Date.now();
  const { release, result } = await rt.runTask(req.task, ref, (stream, line) => {
    if (!call.cancelled) call.write({ line, stream, done: false, exit_code: 0, message: '' });
  }, ac.signal, { args: req.args, stdin });
  const how = result.code === null ? (ac.signal.aborted ? 'was cancelled' : 'was killed') : `exited with code ${result.code}`;
  await deps.history.append({
    app: req.app, action: 'task', who, to_version: release.version, result: result.code === 0 ? 'done' : 'failed',
    duration_s: (Date.now() - t0) / 1000, message: `${req.task} ${how}`,
  });
  if (!call.cancelled) call.write({ line: '', stream: '', done: true, exit_code: result.code ?? -1, message: `task ${req.task} in ${release.version} ${how}` });
}
