// The agent's composition root: builds the store, the releases, the apps'
// runtimes, the history, the locks and the monitoring from the config, then
// the listeners (gRPC, the upload data port, the HTTP endpoint), and owns
// their start and stop. Agent.create reads and looks up what the parts need
// (the trusted keys, app_user) first, so each part is complete when built;
// the gRPC handlers get only the parts they use (transport/grpc-service.ts).
import * as grpc from '@grpc/grpc-js';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import { writeFileAtomic } from '../common/atomic.js';
import { serverCredentials, KEEPALIVE_OPTIONS, type AgentServerCredentials } from '../common/credentials.js';
import { AgentService } from '../proto/load.js';
import { ReleaseStore } from './storage/store.js';
import { ReleaseFetcher } from './storage/download/index.js';
import { fetchSettings } from './storage/download/settings.js';
import { Releases } from './storage/releases.js';
import { ReleaseVerifier } from './storage/signatures.js';
import { Pruner, schedulePrune } from './storage/prune.js';
import { secureExistingPaths } from './storage/app-user.js';
import { AppUsers } from './runtime/app-users.js';
import { removeHostLeftovers } from './storage/leftovers.js';
import { SupervisedRunner } from './runtime/process/supervised-runner.js';
import { AppRuntimes } from './runtime/registry.js';
import { LockTable } from './locks.js';
import { AgentEvents, type ActivationEnded } from './events.js';
import { History } from './history.js';
import { appsDir, AppPaths } from './paths.js';
import { HostSampler } from './monitoring/host-sampler.js';
import { AgentMetrics } from './monitoring/metrics.js';
import { handlers } from './transport/grpc-service.js';
import { HealthStatus } from './transport/health.js';
import { UploadPort } from './transport/data-port.js';
import { HttpEndpoint } from './transport/http/server.js';
import { httpSecurity, readHttpToken } from './transport/http/security.js';
import { CertificateReload, type CertificateUser } from './transport/certificate-reload.js';
import type { AgentConfig } from './config.js';
import type { Logger } from './logger.js';
import type { AgentInfo } from '../proto/gen/slipway/v1/AgentInfo.js';

export { SLIPWAY_VERSION as AGENT_VERSION } from '../common/package-info.js';
import { SLIPWAY_VERSION as AGENT_VERSION } from '../common/package-info.js';
import { readHostFacts, type HostFacts } from './monitoring/host-facts.js';
import { AgentUpgrades, selfHealthy } from './upgrade/upgrades.js';
import { testPause } from './upgrade/test-pause.js';
import { AgentHome } from './upgrade/home.js';

export interface AgentOptions {
  /** Ends the agent so that its launcher starts the build an agent upgrade switched to (main.ts). */
  restart?: (why: string) => void;
}

export class Agent {
  private readonly startedAt = new Date();
  private readonly events = new AgentEvents();
  private readonly health = new HealthStatus({ '': 'SERVING', 'slipway.v1.Agent': 'SERVING' });
  private readonly store: ReleaseStore;
  private readonly releases: Releases;
  private readonly runner: SupervisedRunner;
  private readonly runtimes: AppRuntimes;
  private readonly history: History;
  /** Deploy leases per app. */
  private readonly locks: LockTable;
  private readonly pruner: Pruner;
  private readonly sampler: HostSampler;
  private readonly metrics: AgentMetrics;
  // Made by start():
  private server?: grpc.Server;
  private uploadPort?: UploadPort;
  private http?: HttpEndpoint;
  /** OS, CPU model, memory, file systems: read once after the start (monitoring/host-facts.ts), for /status. */
  private hostFacts?: HostFacts;
  private certificates?: CertificateReload;
  private readonly tasks: ScheduledTask[] = [];

  /**
   * Reads the trusted release keys (a bad key file stops the start, named)
   * and checks the users apps run as that the config names, then builds the
   * agent; start() makes it serve.
   */
  static async create(config: AgentConfig, log: Logger, opts: AgentOptions = {}): Promise<Agent> {
    const verifier = new ReleaseVerifier(config.trusted_keys, config.allow_unsigned);
    if (verifier.keyIds.length === 0 && !config.allow_unsigned) log.warn('trusted_keys is empty and allow_unsigned is off: every release will be refused');
    const users = new AppUsers(config, { log, dataDir: (app) => new AppPaths(config.state_dir, app).data });
    const problems = (await users.check()).filter((f) => !f.ok);
    if (problems.length > 0) throw new Error(problems.map((f) => `${f.what}: ${f.detail}`).join('; '));
    return new Agent(config, log, verifier, users, opts);
  }

  /** The agent's own upgrades (agent/upgrade/): through its launcher, which it was started by (or not). */
  private readonly upgrades: AgentUpgrades;

  private constructor(private readonly config: AgentConfig, private readonly log: Logger,
    private readonly verifier: ReleaseVerifier, private readonly users: AppUsers, opts: AgentOptions) {
    const stateDir = config.state_dir;
    this.runner = new SupervisedRunner(stateDir, AGENT_VERSION, log, config.runtime_dir);
    this.history = new History(stateDir, log);
    this.locks = new LockTable(stateDir, log);
    // Every activation (deploys, rollbacks, reverts, restarts, the agent's own rollbacks) goes into the history,
    // written before its outcome is told (the runtimes await it).
    const journal = (e: ActivationEnded) => this.history.append({
      app: e.app, action: e.reason, who: e.who, from_version: e.from, to_version: e.version, result: e.result, duration_s: e.seconds, message: e.message,
    });
    this.store = new ReleaseStore({
      stateDir, maxBytes: config.limits.release_bytes, log, verifier, disk: { path: stateDir, reserve: config.disk_reserve_bytes },
    });
    this.releases = new Releases(stateDir, this.store, {
      maxBytes: config.limits.release_bytes, maxEntries: config.limits.entries,
      maxPathLength: config.limits.path_length, maxDepth: config.limits.path_depth,
    }, log, users.unprivileged);
    this.runtimes = new AppRuntimes({
      stateDir, releases: this.releases, runner: this.runner, appBind: config.app_bind, log,
      logLimits: { bytes: config.limits.log_bytes, files: config.limits.log_files }, users, events: this.events, journal,
    });
    this.pruner = new Pruner({
      stateDir, releases: this.releases, runtime: (app) => this.runtimes.runtime(app), apps: () => this.runtimes.apps(),
      keep: config.keep_releases, logFiles: config.limits.log_files, log,
      removed: (item) => this.events.emit('prune', { app: item.app, kind: item.kind, bytes: item.bytes }),
    });
    this.sampler = new HostSampler({
      stateDir, runtimes: () => this.runtimes.all(), releaseCount: async (app) => (await this.releases.list(app)).length,
    }, config.sample_interval_s * 1000, (err) => log.warn({ err }, 'host sample failed'));
    this.upgrades = new AgentUpgrades({
      releases: this.releases, history: this.history, log, version: AGENT_VERSION, keep: Math.max(1, Math.min(config.keep_releases, 5)),
      self: AgentHome.fromEnv(), upgradeSupervisor: () => this.runner.upgradeSupervisor(), restart: opts.restart ?? ((why) => log.warn({ why }, 'the agent should restart into its new build, but nothing restarts it here')),
    });
    this.metrics = new AgentMetrics({ events: this.events, sampler: this.sampler, uploadBytes: () => this.store.counters.bytes, agentVersion: AGENT_VERSION }, this.startedAt);
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await testPause('start');
    await mkdir(appsDir(config.state_dir), { recursive: true, mode: 0o750 });
    await removeHostLeftovers(config.state_dir, log);
    await this.locks.load();
    await writeIdentity(config.state_dir);
    await secureExistingPaths({
      stateDir: config.state_dir, releases: this.releases, users: this.users, tlsKey: 'insecure' in config.tls ? undefined : config.tls.key, log,
    });
    // mTLS with the deployer role required; the certificate files are read again on SIGHUP and every tls_reload_s.
    const creds = serverCredentials(config.tls, (who, method) => log.warn({ cn: who.cn, roles: who.roles, method }, 'refused a client certificate without the deployer role'));
    if (creds.current) log.info({ cert: creds.current().subject, not_after: creds.current().notAfter.toISOString() }, 'TLS certificate loaded');
    const host = config.listen.slice(0, config.listen.lastIndexOf(':'));
    // The upload data port (none with upload_listen: false), on gRPC's host by default; it listens before
    // gRPC serves, so that BeginUpload never hands out a port that is not there yet.
    const uploadPort = config.upload_listen === false ? undefined : new UploadPort(log, { tls: creds.current?.(), ticketMs: config.upload_ticket_s * 1000 });
    this.uploadPort = uploadPort;
    if (uploadPort) await this.openUploadPort(uploadPort, config.upload_listen || `${host}:0`);
    const address = `${host}:${await this.serveGrpc(creds, uploadPort)}`;
    await this.sampler.start();
    const httpAddress = await this.openHttp(creds);
    if (creds.reload) {
      const users: CertificateUser[] = [this.http, this.uploadPort].filter((u) => u !== undefined);
      this.certificates = new CertificateReload(creds.reload, users, log, config.tls_reload_s * 1000);
    }
    for (const w of this.warnings()) log.warn(w);
    log.info({ grpc: address, upload: this.uploadPort?.address, http: httpAddress, http_scheme: this.http?.scheme, state_dir: config.state_dir, version: AGENT_VERSION, pid: process.pid }, 'agent listening');
    readHostFacts().then((f) => { this.hostFacts = f; }, (err: Error) => log.warn({ err: err.message }, 'host facts not read (left out of /status)'));
    // The apps: re-attach to the supervising process (or start one), then reconcile now and on reconcile_schedule.
    await this.runner.connect();
    void this.runtimes.reconcileAll(log);
    // Re-attached and serving: a new build of the agent confirms itself (agent/upgrade/).
    this.upgrades.afterStart(() => selfHealthy(httpAddress, this.http?.scheme)).catch((err: unknown) => log.error({ err }, 'agent upgrade bookkeeping failed'));
    this.tasks.push(
      cron.schedule(config.reconcile_schedule, () => this.runtimes.reconcileAll(log), { name: 'reconcile', timezone: 'UTC', noOverlap: true }),
      schedulePrune(config.prune_schedule, () => this.pruner.run({ why: 'schedule' }), log),
    );
  }

  /** The gRPC server (slipway.v1.Agent and grpc.health.v1.Health) on `listen`; the bound port. */
  private async serveGrpc(creds: AgentServerCredentials, uploadPort: UploadPort | undefined): Promise<number> {
    const { config, log } = this;
    const server = new grpc.Server({ ...KEEPALIVE_OPTIONS, 'grpc.max_receive_message_length': 8 << 20 });
    server.addService(AgentService, handlers({
      apps: this.runtimes, agentUpgrades: this.upgrades, releases: this.releases, store: this.store, uploadPort,
      fetcher: new ReleaseFetcher(this.store, fetchSettings(config.fetch), log), history: this.history, locks: this.locks,
      pruner: this.pruner, sampler: this.sampler, metrics: this.metrics, info: () => this.info(), stateDir: config.state_dir, log,
      events: this.events, facts: () => this.hostFacts,
    }));
    this.health.addToServer(server); // before bindAsync
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(config.listen, creds.credentials, (err, p) => (err ? reject(err) : resolve(p))));
    this.server = server;
    return port;
  }

  private async openUploadPort(port: UploadPort, addr: string): Promise<void> {
    try {
      await port.listen(addr);
    } catch (err) {
      throw new Error(`the upload data port cannot listen on ${addr} (config key upload_listen): ${(err as Error).message}`);
    }
  }

  /** The HTTP endpoint (health, status, metrics): HTTPS beyond loopback, a bearer token with http_token_file. Its address, if any. */
  private async openHttp(creds: AgentServerCredentials): Promise<string | undefined> {
    const { config } = this;
    if (config.http === false) return undefined;
    this.http = new HttpEndpoint({
      version: AGENT_VERSION, name: config.name, stateDir: config.state_dir, startedAt: this.startedAt,
      sampler: this.sampler, metrics: this.metrics, uploads: () => ({ ...this.store.counters }), warnings: () => this.warnings(),
      facts: () => this.hostFacts,
    }, this.log, await httpSecurity({ ...config, http: config.http }, creds.current?.()));
    try {
      return await this.http.listen(config.http);
    } catch (err) {
      throw new Error(`the HTTP endpoint cannot listen on ${config.http} (config key http): ${(err as Error).message}`);
    }
  }

  /**
   * SIGHUP: the http token, the trusted release keys and the TLS certificate
   * files are read again. A bad file is logged and the one in use kept.
   */
  reload(): void {
    const { config, log } = this;
    if (config.http_token_file) {
      readHttpToken(config.http_token_file).then((t) => { this.http?.setToken(t); log.info('http_token_file reloaded'); },
        (err: Error) => log.error({ err: err.message }, 'http_token_file not reloaded (keeping the token in use)'));
    }
    try {
      log.info({ trusted_keys: this.verifier.reload() }, 'trusted release keys reloaded');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'trusted release keys not reloaded (keeping the ones in use)');
    }
    this.certificates?.now('SIGHUP');
  }

  /** Stops serving. Apps keep running: the agent's shutdown never stops them. */
  async stop(): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus('slipway.v1.Agent', 'NOT_SERVING');
    this.sampler.stop();
    await this.http?.close();
    await this.uploadPort?.close();
    for (const task of this.tasks) await task.stop();
    this.certificates?.stop();
    await this.runtimes.detachAll();
    this.runner.close();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 5_000);
      server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
  }

  private info(): AgentInfo {
    return {
      version: AGENT_VERSION,
      hostname: this.config.name ?? hostname(),
      started_at: this.startedAt.toISOString(),
      upload_bytes_total: this.store.counters.bytes,
      uploads_total: this.store.counters.uploads,
      uploads_deduplicated_total: this.store.counters.deduplicated,
      node_version: process.version,
      state_dir: this.config.state_dir,
      open_files_limit: this.sampler.agentOpenFilesLimit,
      warnings: this.warnings(),
    };
  }

  /** Things an operator should fix on this host. */
  private warnings(): string[] {
    const limit = this.sampler.agentOpenFilesLimit;
    return limit > 0 && limit < 65_536
      ? [`the open-file limit is ${limit}, below 65,536: apps inherit it and busy servers run out of sockets; raise LimitNOFILE in the agent's unit`]
      : [];
  }
}

/** agent.json: the agent's identity, written once. */
async function writeIdentity(stateDir: string): Promise<void> {
  const file = join(stateDir, 'agent.json');
  try {
    await readFile(file, 'utf8');
  } catch {
    await writeFileAtomic(file, `${JSON.stringify({ schema: 1, id: randomUUID(), created_at: new Date().toISOString() }, null, 1)}\n`, 0o600);
  }
}
