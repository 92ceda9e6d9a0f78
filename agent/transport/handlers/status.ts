// Status: the agent and each app (state, versions, process, last activation,
// the sampler's figures).
import { appNameProblem } from '../../../common/names.js';
import { appNotFound } from '../../../common/errors.js';
import { unary } from '../rpc.js';
import { check, type AppDirectory } from './common.js';
import { appStatusFigures, type AgentMetrics } from '../../monitoring/metrics.js';
import type { HostSampler } from '../../monitoring/host-sampler.js';
import type { AppRuntime } from '../../runtime/app-runtime.js';
import type { ActivationRecord } from '../../runtime/state.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { AgentInfo } from '../../../proto/gen/slipway/v1/AgentInfo.js';
import type { AppStatus } from '../../../proto/gen/slipway/v1/AppStatus.js';
import type { Activation } from '../../../proto/gen/slipway/v1/Activation.js';

export interface StatusHandlerDeps {
  apps: AppDirectory;
  sampler: HostSampler;
  metrics: AgentMetrics;
  /** The agent's own part of the answer. */
  info(): AgentInfo;
  log: Logger;
}

export function statusHandlers(deps: StatusHandlerDeps): Pick<AgentHandlers, 'Status'> {
  return {
    Status: unary(deps.log, 'Status', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      const apps = req.app ? [req.app] : await deps.apps.apps();
      if (req.app && !apps.includes(req.app)) throw appNotFound(req.app);
      const out: AppStatus[] = [];
      for (const app of apps) {
        if (!req.app && !(await deps.apps.hasApp(app))) continue;
        const rt = await deps.apps.runtime(app);
        out.push({ ...appStatus(rt), ...appStatusFigures(rt, deps.sampler, deps.metrics) });
      }
      return { agent: deps.info(), apps: out, host: deps.sampler.host() ?? null };
    }),
  };
}

function activation(a: ActivationRecord | undefined): Activation | null {
  if (!a) return null;
  return { ...a };
}

/** The runtime's part of an AppStatus. */
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
