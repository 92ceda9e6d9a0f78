// What the agent's HTTP endpoint answers: the bodies of /status and /readyz,
// built from memory only (the runtimes' getters, the sampler's cache), so a
// probe or a scrape never waits on the disk. docs/monitoring.md documents
// these objects; `schema` changes only when a field is removed or changes
// meaning.
import { hostname } from 'node:os';
import type { AppRuntime } from '../../runtime/app-runtime.js';
import type { HostSampler } from '../../monitoring/host-sampler.js';
import type { AgentMetrics } from '../../monitoring/metrics.js';
import type { HostFacts } from '../../monitoring/host-facts.js';

export const STATUS_SCHEMA = 1;

export interface ReportSource {
  version: string;
  name?: string;
  stateDir: string;
  startedAt: Date;
  sampler: HostSampler;
  metrics: AgentMetrics;
  uploads(): { bytes: number; uploads: number; deduplicated: number };
  warnings(): string[];
  /** What the host is (read once at start; undefined until read, or when it could not be). */
  facts?(): HostFacts | undefined;
}

/** Should this app run on this host? It was activated and no operator stopped it. */
export function shouldRun(rt: AppRuntime): boolean {
  const st = rt.persistedState;
  return st.desired !== null && !st.stopped;
}

/** Why the app is not ready, or undefined when it is (or need not run). */
export function notReady(rt: AppRuntime): string | undefined {
  if (!shouldRun(rt)) return undefined;
  if (rt.state === 'running' && rt.running) return undefined;
  const reason = rt.stateReason ? `: ${rt.stateReason}` : '';
  switch (rt.state) {
    case 'activating': return `activating${reason} (a swap is in progress)`;
    case 'starting': return `starting${reason} (not ready yet)`;
    case 'backoff': return `backoff${reason} (crashed; a restart is pending)`;
    case 'crashloop': return `crashloop${reason} (restarts stopped)`;
    case 'stopped': return `stopped${reason} (${rt.persistedState.desired?.version} should run)`;
    default: return `${rt.state}${reason}`;
  }
}

/**
 * The open /readyz: up or down and nothing else (no app names, states or
 * reasons: anyone who reaches the port may ask). /status, behind the token,
 * says which app is not ready and why.
 */
export function readiness(src: ReportSource): { status: number; body: { ready: boolean } } {
  const ready = src.sampler.runtimes().every((rt) => notReady(rt) === undefined);
  return { status: ready ? 200 : 503, body: { ready } };
}

export function statusReport(src: ReportSource): object {
  const now = Date.now();
  const host = src.sampler.host();
  return {
    schema: STATUS_SCHEMA,
    agent: {
      version: src.version,
      hostname: src.name ?? hostname(),
      pid: process.pid,
      node_version: process.version,
      started_at: src.startedAt.toISOString(),
      uptime_s: (now - src.startedAt.getTime()) / 1000,
      open_files_limit: src.sampler.agentOpenFilesLimit,
      warnings: src.warnings(),
      state_dir: src.stateDir,
      uploads: src.uploads(),
    },
    host: host ? {
      cpu_percent: host.cpu_percent, load1: host.load1,
      memory_total: Number(host.memory_total), memory_available: Number(host.memory_available),
      disk_path: host.disk_path, disk_total: Number(host.disk_total), disk_free: Number(host.disk_free),
      uptime_s: host.uptime_s, sampled_at: host.sampled_at,
    } : null,
    host_facts: src.facts?.() ?? null,
    apps: src.sampler.runtimes().map((rt) => appReport(src, rt, now)),
  };
}

function appReport(src: ReportSource, rt: AppRuntime, now: number): object {
  const st = rt.persistedState;
  const proc = rt.running;
  const rel = rt.runningRelease;
  const f = src.sampler.app(rt.app);
  const fresh = f && f.pid === (proc?.pid ?? 0) ? f : undefined;
  const last = st.history.at(-1);
  return {
    app: rt.app,
    state: rt.state,
    state_reason: rt.stateReason,
    state_since: src.metrics.stateSince(rt.app).toISOString(),
    should_run: shouldRun(rt),
    ready: shouldRun(rt) ? notReady(rt) === undefined : null,
    desired_version: st.desired?.version ?? null,
    desired_sha256: st.desired?.sha256 ?? null,
    version: rel?.version ?? null,
    sha256: rel?.sha256 ?? null,
    pid: proc?.pid ?? null,
    started_at: proc?.startedAt.toISOString() ?? null,
    uptime_s: proc ? (now - proc.startedAt.getTime()) / 1000 : null,
    restarts: st.restarts,
    cpu_percent: fresh?.cpu_percent ?? null,
    memory_rss: fresh?.memory_rss ?? null,
    open_files_limit: fresh?.open_files_limit || null,
    releases_present: f?.releases_present ?? 0,
    last_activation: last ? {
      version: last.version, sha256: last.sha256, at: last.at, strategy: last.strategy, reason: last.reason,
      result: last.result, message: last.message, requested_by: last.requested_by,
    } : null,
  };
}
