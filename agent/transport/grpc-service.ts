// The gRPC handlers of slipway.v1.Agent: validate the request, call the
// agent, shape the answer. No decisions here.
import type * as grpc from '@grpc/grpc-js';
import { invalid, notFound, SlipwayError } from '../../common/errors.js';
import { appNameProblem, versionProblem, sha256Problem } from '../../common/names.js';
import { unary, serverStream } from './rpc.js';
import type { Agent } from '../agent.js';
import type { AppRuntime } from '../runtime/app-runtime.js';
import { rollbackTarget, type ActivationRecord } from '../runtime/state.js';
import type { AgentHandlers } from '../../proto/gen/slipway/v1/Agent.js';
import type { AppStatus } from '../../proto/gen/slipway/v1/AppStatus.js';
import type { Activation } from '../../proto/gen/slipway/v1/Activation.js';
import type { DeployEvent } from '../../proto/gen/slipway/v1/DeployEvent.js';
import type { ActivateRequest__Output } from '../../proto/gen/slipway/v1/ActivateRequest.js';
import type { ReleaseInfo } from '../../proto/gen/slipway/v1/ReleaseInfo.js';
import type { ControlRequest__Output } from '../../proto/gen/slipway/v1/ControlRequest.js';
import type { LogsRequest__Output } from '../../proto/gen/slipway/v1/LogsRequest.js';
import type { LogLine } from '../../proto/gen/slipway/v1/LogLine.js';
import type { Emit } from '../runtime/strategies/strategy.js';
import { AppPaths } from '../paths.js';
import { tailLog, follow } from '../runtime/log-reader.js';
import { appStatusFigures } from '../monitoring/metrics.js';
import { opsHandlers } from './handlers/ops.js';
import { lockHandlers } from './handlers/locks.js';
import { pruneHandlers } from './handlers/prune.js';
import { uploadHandlers } from './handlers/upload.js';

function check(problem: string | undefined): void {
  if (problem) throw invalid(problem);
}

export function handlers(agent: Agent): AgentHandlers {
  const log = agent.log;
  return {
    ...opsHandlers(agent),
    ...lockHandlers(agent),
    ...pruneHandlers(agent),
    ...uploadHandlers(agent),
    Upload: agent.store.handler(),

    Activate: serverStream(log, 'Activate', async (req: ActivateRequest__Output, call: grpc.ServerWritableStream<ActivateRequest__Output, DeployEvent>) => {
      check(appNameProblem(req.app) ?? versionProblem(req.version) ?? sha256Problem(req.sha256));
      if (req.strategy && !['hot', 'restart'].includes(req.strategy)) throw invalid(`strategy "${req.strategy}" is not one of: hot, restart`);
      const rt = await agent.runtime(req.app);
      const t0 = Date.now();
      await rt.activate(
        { version: req.version, sha256: req.sha256, strategy: req.strategy, reason: req.reason, requested_by: req.requested_by, undo: req.undo },
        eventWriter(call, req.app, () => req.version, t0, rt.runningRelease?.version ?? ''),
      );
    }),

    Status: unary(log, 'Status', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      const apps = req.app ? [req.app] : await agent.apps();
      if (req.app && !apps.includes(req.app)) throw notFound(`app ${req.app} is not on this host`);
      const out: AppStatus[] = [];
      for (const app of apps) {
        if (!req.app && !(await agent.hasApp(app))) continue;
        const rt = await agent.runtime(app);
        out.push({ ...appStatus(rt), ...appStatusFigures(rt, agent.sampler, agent.metrics) }); // figures: issue 5
      }
      return { agent: agent.info(), apps: out, host: agent.sampler.host() ?? null };
    }),

    Control: serverStream(log, 'Control', async (req: ControlRequest__Output, call: grpc.ServerWritableStream<ControlRequest__Output, DeployEvent>) => {
      check(appNameProblem(req.app));
      if (!(await agent.hasApp(req.app))) throw notFound(`app ${req.app} is not on this host`);
      const rt = await agent.runtime(req.app);
      const t0 = Date.now();
      const version = rt.persistedState.desired?.version ?? '';
      const emit = eventWriter(call, req.app, () => version, t0);
      switch (req.action) {
        case 'stop':
        case 'start': {
          let last = '';
          const record: Emit = (event, d) => { last = event === 'failed' || event === 'done' ? event : last; emit(event, d); };
          await (req.action === 'stop' ? rt.stopApp(record, req.requested_by) : rt.startApp(record));
          await agent.history.append({
            app: req.app, action: req.action, who: req.requested_by, to_version: version,
            result: last === 'failed' ? 'failed' : 'done', duration_s: (Date.now() - t0) / 1000,
          });
          return;
        }
        case 'restart': {
          const d = rt.persistedState.desired;
          if (!d) throw new SlipwayError('FAILED_PRECONDITION', `${req.app} was never activated on this host; deploy a version first`);
          return rt.activate({ ...d, strategy: '', reason: 'restart', requested_by: req.requested_by, undo: false, restart: true }, emit);
        }
        default: throw invalid(`action "${req.action}" is not one of: start, stop, restart`);
      }
    }),

    Logs: serverStream(log, 'Logs', async (req: LogsRequest__Output, call: grpc.ServerWritableStream<LogsRequest__Output, LogLine>) => {
      check(appNameProblem(req.app));
      if (!(await agent.hasApp(req.app))) throw notFound(`app ${req.app} is not on this host`);
      const file = new AppPaths(agent.config.state_dir, req.app).appLog;
      const n = Math.min(req.lines || 100, 10_000);
      for (const line of await tailLog(file, n)) call.write({ line });
      if (!req.follow) return;
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      call.on('close', () => ac.abort());
      await follow(file, (lines) => { for (const line of lines) call.write({ line }); }, ac.signal);
    }),

    ListReleases: unary(log, 'ListReleases', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      const apps = req.app ? [req.app] : await agent.apps();
      const releases: ReleaseInfo[] = [];
      for (const app of apps) {
        const rt = (await agent.hasApp(app)) ? await agent.runtime(app) : undefined;
        const st = rt?.persistedState;
        const current = st?.desired?.sha256;
        const target = st ? rollbackTarget(st)?.sha256 : undefined;
        for (const r of await agent.releases.list(app)) {
          releases.push({ ...r, size: r.size, current: r.sha256 === current, rollback_target: r.sha256 === target });
        }
      }
      return { releases };
    }),
  };
}

/** An Emit that writes DeployEvents to a server stream. */
function eventWriter<Req>(call: grpc.ServerWritableStream<Req, DeployEvent>, app: string, version: () => string, t0: number, from = ''): Emit {
  return (event, d = {}) => {
    if (call.cancelled) return;
    call.write({
      event, app, version: version(), message: d.message ?? '', at: new Date().toISOString(),
      pid: d.pid ?? 0, output: d.output ?? [], from_version: from, elapsed_s: (Date.now() - t0) / 1000,
    });
  };
}

function activation(a: ActivationRecord | undefined): Activation | null {
  if (!a) return null;
  return { ...a };
}

export function appStatus(rt: AppRuntime): AppStatus {
  const st = rt.persistedState;
  const proc = rt.running;
  const rel = rt.runningRelease;
  return {
    app: rt.app,
    state: rt.state,
    state_reason: rt.stateReason,
    version: rel?.version ?? '',
    sha256: rel?.sha256 ?? '',
    desired_version: st.desired?.version ?? '',
    desired_sha256: st.desired?.sha256 ?? '',
    pid: proc?.pid ?? 0,
    started_at: proc?.startedAt.toISOString() ?? '',
    restarts: st.restarts,
    last_activation: activation(st.history.at(-1)),
    stack: st.stack.map((a) => ({ ...a })),
  };
}
