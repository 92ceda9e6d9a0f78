// Status: the agent and each app (state, versions, process, last activation,
// the sampler's figures).
import { appNameProblem } from '../../../common/names.js';
import { appNotFound } from '../../../common/errors.js';
import { unary } from '../rpc.js';
import { check, type AppDirectory } from './common.js';
import { appStatusFigures, type AgentMetrics } from '../../monitoring/metrics.js';
import type { HostSampler } from '../../monitoring/host-sampler.js';
import type { HostFacts } from '../../monitoring/host-facts.js';
import type { AppRuntime } from '../../runtime/app-runtime.js';
import type { ActivationRecord } from '../../runtime/state.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { AgentInfo } from '../../../proto/gen/slipway/v1/AgentInfo.js';
import type { AppStatus } from '../../../proto/gen/slipway/v1/AppStatus.js';
import type { Activation } from '../../../proto/gen/slipway/v1/Activation.js';
import type { HostFacts as HostFactsMessage } from '../../../proto/gen/slipway/v1/HostFacts.js';

export interface StatusHandlerDeps {
  apps: AppDirectory;
  sampler: HostSampler;
  metrics: AgentMetrics;
  /** The agent's own part of the answer. */
  info(): AgentInfo;
  /** What the host is (read once after the start); undefined until read, or when reading failed. */
  facts?(): HostFacts | undefined;
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
      return { agent: deps.info(), apps: out, host: deps.sampler.host() ?? null, facts: factsMessage(deps.facts?.()) };
    }),
  };
}

/** A byte count for a uint64 field: a whole number, 0 for what the library did not know. */
const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** The host facts as the Status answer carries them (null until they are read). */
export function factsMessage(f: HostFacts | undefined): HostFactsMessage | null {
  if (!f) return null;
  return {
    os_distro: f.os.distro, os_release: f.os.release, kernel: f.os.kernel, arch: f.os.arch,
    cpu_manufacturer: f.cpu.manufacturer, cpu_brand: f.cpu.brand, cpu_cores: f.cpu.cores, cpu_physical_cores: f.cpu.physical_cores,
    memory_total: count(f.memory_total), filesystems: f.filesystems.map((x) => ({ mount: x.mount, type: x.type, size: count(x.size) })), read_at: f.read_at,
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
