// The agent's Prometheus metrics (design.md, "The agent's HTTP endpoint"):
// the design's names and labels exactly, the host and per-app figures of the
// sampler, and prom-client's default process metrics. Counters and the
// histogram follow the agent's events; gauges read in-memory state when
// scraped (the runtimes' getters and the sampler's cache), never the disk.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import { APP_STATES, type AppRuntime } from '../runtime/app-runtime.js';
import type { AgentEvents } from '../events.js';
import type { HostSampler } from './host-sampler.js';

export interface MetricsSource {
  events: AgentEvents;
  sampler: HostSampler;
  uploadBytes(): number;
  agentVersion: string;
}

/** An app serves while it runs (`running`), and while a swap is in progress (the old version serves). */
export function appUp(rt: AppRuntime): boolean {
  return (rt.state === 'running' || rt.state === 'activating') && rt.running !== undefined;
}

export class AgentMetrics {
  readonly registry = new Registry();
  /** When each app entered its current state (from the agent's 'state' events; the agent's start before any). */
  private readonly since = new Map<string, Date>();

  constructor(private readonly src: MetricsSource, private readonly startedAt: Date) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names *_total, which `promtool check metrics` rejects (a _total
    // suffix means a counter); their per-type gauges without the suffix stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    const apps = () => src.sampler.runtimes();
    const figures = (rt: AppRuntime) => {
      const f = src.sampler.app(rt.app);
      // Figures of a pid that no longer runs (a swap since the sample) are not the app's.
      return f && f.pid === (rt.running?.pid ?? 0) ? f : undefined;
    };

    new Gauge({
      name: 'slipway_app_up', help: 'Whether the app serves: 1 in state running (or activating, while the old version serves), 0 otherwise.',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) this.set({ app: rt.app }, appUp(rt) ? 1 : 0); },
    });
    new Gauge({
      name: 'slipway_app_info', help: 'Always 1; the version label is the release that runs (no series while nothing runs).',
      labelNames: ['app', 'version'], registers,
      collect() { this.reset(); for (const rt of apps()) { const v = rt.runningRelease?.version; if (v) this.set({ app: rt.app, version: v }, 1); } },
    });
    new Gauge({
      name: 'slipway_app_state', help: `1 for the app's current state, 0 for the others (${APP_STATES.join(', ')}).`,
      labelNames: ['app', 'state'], registers,
      collect() { this.reset(); for (const rt of apps()) for (const s of APP_STATES) this.set({ app: rt.app, state: s }, rt.state === s ? 1 : 0); },
    });
    const restarts = new Counter({
      name: 'slipway_app_restarts_total', help: 'Restarts of a crashed app by the agent since the agent started.',
      labelNames: ['app'], registers,
      collect() { for (const rt of apps()) this.inc({ app: rt.app }, 0); },
    });
    new Counter({
      name: 'slipway_drain_killed_total', help: 'Draining old versions killed before their own drain deadline because more than stop.max_draining drained at once.',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) this.inc({ app: rt.app }, rt.drainKills); },
    });
    const activations = new Counter({
      name: 'slipway_activations_total', help: 'Activations (deploys, rollbacks, restarts onto a release) that ended, by strategy and result (done or failed).',
      labelNames: ['app', 'strategy', 'result'], registers,
    });
    const duration = new Histogram({
      name: 'slipway_activation_duration_seconds', help: 'How long activations took, from the request to done or failed.',
      labelNames: ['app'], buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers,
    });
    new Counter({
      name: 'slipway_upload_bytes_total', help: 'Release bytes received by uploads since the agent started (deduplicated uploads send none).',
      registers,
      collect() { this.reset(); this.inc(src.uploadBytes()); },
    });
    new Gauge({
      name: 'slipway_releases_present', help: 'Releases of the app on this host (stored tarballs or unpacked directories).',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) this.set({ app: rt.app }, src.sampler.app(rt.app)?.releases_present ?? 0); },
    });
    new Gauge({
      name: 'slipway_agent_open_files_limit', help: "The agent's soft RLIMIT_NOFILE; the apps it starts inherit it.",
      registers,
      collect() { this.set(src.sampler.agentOpenFilesLimit); },
    });
    new Gauge({
      name: 'slipway_agent_info', help: 'Always 1; the version label is the agent\'s.', labelNames: ['version'], registers,
      collect() { this.reset(); this.set({ version: src.agentVersion }, 1); },
    });
    new Gauge({
      name: 'slipway_app_start_time_seconds', help: 'Start time of the app\'s running process, in seconds since the Unix epoch.',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) { const p = rt.running; if (p) this.set({ app: rt.app }, p.startedAt.getTime() / 1000); } },
    });
    new Gauge({
      name: 'slipway_app_cpu_usage_ratio', help: 'CPU used by the app\'s process over the last sample interval, as a fraction of one core.',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) { const c = figures(rt)?.cpu_percent; if (c !== undefined) this.set({ app: rt.app }, c / 100); } },
    });
    new Gauge({
      name: 'slipway_app_memory_rss_bytes', help: 'Resident memory of the app\'s process at the last sample.',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) { const f = figures(rt); if (f?.memory_rss) this.set({ app: rt.app }, f.memory_rss); } },
    });
    new Gauge({
      name: 'slipway_app_open_files_limit', help: 'The app process\'s soft RLIMIT_NOFILE (/proc/<pid>/limits).',
      labelNames: ['app'], registers,
      collect() { this.reset(); for (const rt of apps()) { const f = figures(rt); if (f?.open_files_limit) this.set({ app: rt.app }, f.open_files_limit); } },
    });
    const host = () => src.sampler.host();
    const hostGauge = (name: string, help: string, value: () => number | undefined) => new Gauge({
      name, help, registers,
      collect() { const v = host() ? value() : undefined; if (v === undefined) this.reset(); else this.set(v); },
    });
    hostGauge('slipway_host_cpu_usage_ratio', 'Busy fraction of all CPU cores over the last sample interval (/proc/stat).', () => (host()?.cpu_percent ?? 0) / 100);
    hostGauge('slipway_host_load1', 'One-minute load average.', () => host()?.load1);
    hostGauge('slipway_host_memory_total_bytes', 'MemTotal of /proc/meminfo.', () => host()?.memory_total);
    hostGauge('slipway_host_memory_available_bytes', 'MemAvailable of /proc/meminfo: memory available for new work without swapping.', () => host()?.memory_available);
    hostGauge('slipway_host_disk_total_bytes', 'Size of the filesystem holding the agent\'s state_dir.', () => host()?.disk_total);
    hostGauge('slipway_host_disk_free_bytes', 'Bytes available to unprivileged users on the filesystem holding the state_dir.', () => host()?.disk_free);
    hostGauge('slipway_host_uptime_seconds', 'Seconds since the host booted.', () => host()?.uptime_s);
    hostGauge('slipway_host_sample_timestamp_seconds', 'When the host figures above were sampled, in seconds since the Unix epoch.', () => Date.parse(host()?.sampled_at ?? '') / 1000);

    src.events.on('activation', (e) => {
      activations.inc({ app: e.app, strategy: e.strategy, result: e.result });
      duration.observe({ app: e.app }, e.seconds);
      void src.sampler.sampleNow(); // releases present and the new pid's figures
    });
    src.events.on('restart', (e) => restarts.inc({ app: e.app }));
    // What prune removed
    const pruned = new Counter({
      name: 'slipway_prune_removed_total', help: 'Things prune removed since the agent started, by kind (release, tarball, temp, log).',
      labelNames: ['app', 'kind'], registers,
    });
    const prunedBytes = new Counter({
      name: 'slipway_prune_removed_bytes_total', help: 'Bytes prune freed since the agent started, by kind (release, tarball, temp, log).',
      labelNames: ['app', 'kind'], registers,
    });
    src.events.on('prune', (e) => {
      pruned.inc({ app: e.app, kind: e.kind });
      prunedBytes.inc({ app: e.app, kind: e.kind }, e.bytes);
    });
    // (end of what prune removed)
    src.events.on('state', (e) => {
      this.since.set(e.app, new Date());
      if (!src.sampler.runtimes().some((rt) => rt.app === e.app)) void src.sampler.sampleNow(); // an app new to this host
    });
  }

  /** When the app entered its current state. */
  stateSince(app: string): Date {
    return this.since.get(app) ?? this.startedAt;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The monitoring fields of an AppStatus (the Status RPC), from the sampler's cache. */
export function appStatusFigures(rt: AppRuntime, sampler: HostSampler, metrics: AgentMetrics): {
  open_files_limit: number; cpu_percent: number; memory_rss: number; releases_present: number; state_since: string;
} {
  const f = sampler.app(rt.app);
  const fresh = f && f.pid === (rt.running?.pid ?? 0) ? f : undefined;
  return {
    open_files_limit: fresh?.open_files_limit ?? 0,
    cpu_percent: fresh?.cpu_percent ?? 0,
    memory_rss: fresh?.memory_rss ?? 0,
    releases_present: f?.releases_present ?? 0,
    state_since: metrics.stateSince(rt.app).toISOString(),
  };
}
