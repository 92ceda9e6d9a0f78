// The agent: composes the store, the releases, the apps' runtimes and the
// gRPC server, and owns their start and stop.
import * as grpc from '@grpc/grpc-js';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeFileAtomic } from '../common/atomic.js';
import { serverCredentials, KEEPALIVE_OPTIONS, type LoadedPair } from '../common/credentials.js';
import { AgentService } from '../proto/load.js';
import { ReleaseStore } from './storage/store.js';
import { Releases } from './storage/releases.js';
import { AppRuntime } from './runtime/app-runtime.js';
import { SupervisedRunner } from './runtime/process/supervised-runner.js';
import cron, { type ScheduledTask } from 'node-cron';
import { lookupUser, type AppUser } from './runtime/app-env.js';
import { secureStateDir, secureAppDir, lockDownRelease, userMay } from './storage/permissions.js';
import { handlers } from './transport/grpc-service.js';
import { ReleaseVerifier } from './storage/signatures.js';
import { LockTable } from './locks.js';
import { AgentEvents } from './events.js';
import { History } from './history.js';
import { Pruner, schedulePrune } from './storage/prune.js';
import { appsDir, AppPaths } from './paths.js';
// --- monitoring (issue 5): HTTP endpoint, metrics, host sampler, grpc.health.v1
import { HealthStatus } from './transport/health.js';
import { HostSampler } from './monitoring/host-sampler.js';
import { AgentMetrics } from './monitoring/metrics.js';
import { HttpEndpoint, type HttpSecurity } from './transport/http/server.js';
import { hostOf, isLoopback } from './config.js';
import { UploadPort } from './transport/data-port.js';
// --- end monitoring
import type { AgentConfig } from './config.js';
import type { Logger } from './logger.js';
import type { AgentInfo } from '../proto/gen/slipway/v1/AgentInfo.js';

export { SLIPWAY_VERSION as AGENT_VERSION } from '../common/package-info.js';
import { SLIPWAY_VERSION as AGENT_VERSION } from '../common/package-info.js';

export class Agent {
  readonly store: ReleaseStore;
  readonly releases: Releases;
  private readonly runtimes = new Map<string, Promise<AppRuntime>>();
  readonly runner: SupervisedRunner;
  private reconcileTask?: ScheduledTask;
  private server?: grpc.Server;
  private user?: AppUser;
  readonly startedAt = new Date();
  readonly events = new AgentEvents();
  readonly history: History;
  readonly locks: LockTable; // deploy leases (issue 6)
  readonly pruner: Pruner;
  private pruneTask?: ScheduledTask;
  address = '';
  // --- monitoring (issue 5)
  readonly sampler: HostSampler;
  readonly metrics: AgentMetrics;
  private readonly health = new HealthStatus({ '': 'SERVING', 'slipway.v1.Agent': 'SERVING' });
  private http?: HttpEndpoint;
  httpAddress = '';
  /** The upload data port (agent/transport/data-port.ts); none with upload_listen: false. */
  uploadPort?: UploadPort;
  // --- end monitoring

  constructor(readonly config: AgentConfig, readonly log: Logger) {
    this.runner = new SupervisedRunner(config.state_dir, AGENT_VERSION, log, config.runtime_dir);
    this.history = new History(config.state_dir, log);
    this.locks = new LockTable(config.state_dir, log);
    // Every activation (deploys, rollbacks, reverts, restarts, the agent's own rollbacks) goes into the history.
    this.events.on('activation', (e) => void this.history.append({
      app: e.app, action: e.reason, who: e.who, from_version: e.from, to_version: e.version, result: e.result, duration_s: e.seconds, message: e.message,
    }));
    this.store = new ReleaseStore(config.state_dir, config.limits.release_bytes, log, { path: config.state_dir, reserve: config.disk_reserve_bytes });
    this.releases = new Releases(config.state_dir, this.store, {
      maxBytes: config.limits.release_bytes, maxEntries: config.limits.entries,
      maxPathLength: config.limits.path_length, maxDepth: config.limits.path_depth,
    }, log);
    this.pruner = new Pruner({
      stateDir: config.state_dir, releases: this.releases, runtime: (app) => this.runtime(app), apps: () => this.apps(),
      keep: config.keep_releases, logFiles: config.limits.log_files, log,
      removed: (item) => this.events.emit('prune', { app: item.app, kind: item.kind, bytes: item.bytes }),
    });
    // --- monitoring (issue 5)
    this.sampler = new HostSampler({
      stateDir: config.state_dir,
      runtimes: async () => Promise.all((await this.apps()).map((app) => this.runtime(app))),
      releaseCount: async (app) => (await this.releases.list(app)).length,
    }, config.sample_interval_s * 1000, (err) => log.warn({ err }, 'host sample failed'));
    this.metrics = new AgentMetrics({ events: this.events, sampler: this.sampler, uploadBytes: () => this.store.counters.bytes, agentVersion: AGENT_VERSION }, this.startedAt);
    // --- end monitoring
  }

  async start(): Promise<void> {
    // --- security (issue 6): release signatures checked against trusted_keys (a bad key file stops the start, named)
    this.store.verifier = new ReleaseVerifier(this.config.trusted_keys, this.config.allow_unsigned);
    if (this.store.verifier.keyIds.length === 0 && !this.config.allow_unsigned) this.log.warn('trusted_keys is empty and allow_unsigned is off: every release will be refused');
    // --- end security
    if (this.config.app_user && process.getuid?.() === 0) {
      this.user = await lookupUser(this.config.app_user);
      if (!this.user) throw new Error(`app_user "${this.config.app_user}" does not exist on this host; create it or remove app_user`);
      if (this.user.uid === 0) throw new Error(`app_user "${this.config.app_user}" has uid 0: apps would run as root; name an unprivileged user`);
    }
    await mkdir(appsDir(this.config.state_dir), { recursive: true, mode: 0o750 });
    await this.locks.load();
    await this.writeIdentity();
    await this.securePaths(); // security (issue 6): apps without root
    const server = new grpc.Server({ ...KEEPALIVE_OPTIONS, 'grpc.max_receive_message_length': 8 << 20 });
    server.addService(AgentService, handlers(this));
    this.health.addToServer(server); // grpc.health.v1.Health (monitoring, issue 5); before bindAsync
    // --- security (issue 6): mTLS with the deployer role required; certificate files re-read on SIGHUP and on a timer
    const creds = serverCredentials(this.config.tls, (who, method) => this.log.warn({ cn: who.cn, roles: who.roles, method }, 'refused a client certificate without the deployer role'));
    this.reloadTls = creds.reload;
    if (creds.current) this.log.info({ cert: creds.current().subject, not_after: creds.current().notAfter.toISOString() }, 'TLS certificate loaded');
    if (creds.reload) this.tlsTimer = setInterval(() => this.reloadCertificates('timer'), this.config.tls_reload_s * 1000).unref();
    // --- end security
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.config.listen, creds.credentials, (err, p) => (err ? reject(err) : resolve(p))));
    this.server = server;
    const host = this.config.listen.slice(0, this.config.listen.lastIndexOf(':'));
    this.address = `${host}:${port}`;
    if (this.config.upload_listen !== false) {
      const addr = this.config.upload_listen ?? `${host}:0`;
      const up = new UploadPort(this.log, { tls: creds.current?.(), ticketMs: this.config.upload_ticket_s * 1000 });
      try {
        await up.listen(addr);
      } catch (err) {
        throw new Error(`the upload data port cannot listen on ${addr} (config key upload_listen): ${(err as Error).message}`);
      }
      this.uploadPort = up;
    }
    // --- monitoring (issue 5)
    await this.sampler.start();
    if (this.config.http !== false) {
      this.http = new HttpEndpoint({
        version: AGENT_VERSION, name: this.config.name, stateDir: this.config.state_dir, startedAt: this.startedAt,
        sampler: this.sampler, metrics: this.metrics, uploads: () => ({ ...this.store.counters }), warnings: () => this.warnings(),
      }, this.log, await this.httpSecurity(creds.current?.())); // security (issue 6): HTTPS beyond loopback, bearer token
      try {
        this.httpAddress = await this.http.listen(this.config.http);
      } catch (err) {
        throw new Error(`the HTTP endpoint cannot listen on ${this.config.http} (config key http): ${(err as Error).message}`);
      }
    }
    for (const w of this.warnings()) this.log.warn(w);
    // --- end monitoring
    this.log.info({ grpc: this.address, upload: this.uploadPort?.address, http: this.httpAddress || undefined, http_scheme: this.http?.scheme, state_dir: this.config.state_dir, version: AGENT_VERSION, pid: process.pid }, 'agent listening');
    // --- watchdog (issue 4): re-attach to the supervising process (or start one), then reconcile now and every minute
    await this.runner.connect();
    void this.reconcileAll();
    this.reconcileTask = cron.schedule(this.config.reconcile_schedule, () => this.reconcileAll(), { name: 'reconcile', timezone: 'UTC', noOverlap: true });
    this.pruneTask = schedulePrune(this.config.prune_schedule, () => this.pruner.run({ why: 'schedule' }), this.log);
    // --- end watchdog
  }

  // --- security (issue 6)
  private reloadTls?: () => { changed: boolean; pair: LoadedPair };
  private tlsTimer?: NodeJS.Timeout;

  /** HTTPS with the agent's certificate when http binds beyond loopback (or http_tls: true); the bearer token of http_token_file. */
  private async httpSecurity(pair: { cert: Buffer; key: Buffer } | undefined): Promise<HttpSecurity> {
    const http = this.config.http;
    const wantTls = http !== false && (this.config.http_tls ?? !isLoopback(hostOf(http)));
    return { tls: wantTls ? pair : undefined, token: await this.readHttpToken() };
  }

  private async readHttpToken(): Promise<string | undefined> {
    const file = this.config.http_token_file;
    if (!file) return undefined;
    let token: string;
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new Error(`cannot read http_token_file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (token.length < 16) throw new Error(`the token in http_token_file ${file} is shorter than 16 characters; use e.g. openssl rand -hex 32`);
    return token;
  }

  /** Re-reads the TLS files; a renewed certificate serves new connections at once. Bad files are logged and the old ones kept. */
  reloadCertificates(why: 'SIGHUP' | 'timer'): void {
    if (why === 'SIGHUP' && this.config.http_token_file) {
      this.readHttpToken().then((t) => { this.http?.setToken(t); this.log.info('http_token_file reloaded'); },
        (err: Error) => this.log.error({ err: err.message }, 'http_token_file not reloaded (keeping the token in use)'));
    }
    if (why === 'SIGHUP' && this.store.verifier) {
      try {
        this.log.info({ trusted_keys: this.store.verifier.reload() }, 'trusted release keys reloaded');
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'trusted release keys not reloaded (keeping the ones in use)');
      }
    }
    if (!this.reloadTls) return;
    try {
      const { changed, pair } = this.reloadTls();
      if (changed) {
        this.log.info({ why, cert: pair.subject, not_after: pair.notAfter.toISOString() }, 'TLS certificate reloaded');
        this.http?.setCertificate(pair);
        this.uploadPort?.setCertificate(pair);
      }
      else if (why === 'SIGHUP') this.log.info({ why }, 'TLS certificate files unchanged');
    } catch (err) {
      this.log.error({ why, err: (err as Error).message }, 'TLS certificate files not reloaded (keeping the ones in use)');
    }
  }
  // --- end security

  /** Compares what should run with what runs, for every app, and mends it. */
  async reconcileAll(): Promise<void> {
    for (const app of await this.apps()) {
      await this.runtime(app).then((rt) => rt.reconcile()).catch((err: unknown) => this.log.error({ err, app }, 'reconcile failed'));
    }
  }

  /** Stops serving. Apps keep running: the agent's shutdown never stops them. */
  async stop(): Promise<void> {
    // --- monitoring (issue 5)
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus('slipway.v1.Agent', 'NOT_SERVING');
    this.sampler.stop();
    await this.http?.close();
    // --- end monitoring
    await this.uploadPort?.close();
    await this.reconcileTask?.stop();
    await this.pruneTask?.stop();
    clearInterval(this.tlsTimer);
    for (const p of this.runtimes.values()) (await p).detach();
    this.runner.close();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 5_000);
      server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
  }

  runtime(app: string): Promise<AppRuntime> {
    let rt = this.runtimes.get(app);
    if (!rt) {
      rt = AppRuntime.load({
        stateDir: this.config.state_dir, releases: this.releases, runner: this.runner, appBind: this.config.app_bind, log: this.log,
        logLimits: { bytes: this.config.limits.log_bytes, files: this.config.limits.log_files }, user: this.user, events: this.events,
      }, app);
      this.runtimes.set(app, rt);
      rt.catch(() => this.runtimes.delete(app));
    }
    return rt;
  }

  apps(): Promise<string[]> {
    return this.releases.apps();
  }

  async hasApp(app: string): Promise<boolean> {
    try {
      await stat(new AppPaths(this.config.state_dir, app).root);
      return true;
    } catch {
      return false;
    }
  }

  info(): AgentInfo {
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

  // --- monitoring (issue 5)
  /** Things an operator should fix on this host. */
  warnings(): string[] {
    const limit = this.sampler.agentOpenFilesLimit;
    return limit > 0 && limit < 65_536
      ? [`the open-file limit is ${limit}, below 65,536: apps inherit it and busy servers run out of sockets; raise LimitNOFILE in the agent's unit`]
      : [];
  }
  // --- end monitoring

  // --- security (issue 6): apps without root (agent/storage/permissions.ts)
  /**
   * The state dir's modes for app_user (or without one), every app's
   * directory, and, with app_user, every release already unpacked (an older
   * agent, or one without app_user, may have left them 0700). Warns when the
   * TLS key is readable by app_user, or the releases are out of its reach.
   */
  private async securePaths(): Promise<void> {
    const user = this.user;
    this.releases.appUser = user;
    await secureStateDir(this.config.state_dir, user, this.log);
    for (const app of await this.releases.apps()) {
      const p = new AppPaths(this.config.state_dir, app);
      await secureAppDir(p, user);
      if (!user) continue;
      for (const r of await this.releases.list(app)) {
        if (r.unpacked) await lockDownRelease(p.release(r.version, r.sha256));
      }
    }
    if (!user) return;
    const name = this.config.app_user;
    if (!('insecure' in this.config.tls) && await userMay(this.config.tls.key, user, 4)) {
      this.log.warn({ key: this.config.tls.key, app_user: name }, `app_user ${name} can read the agent's TLS key ${this.config.tls.key}: make it 0600 (owned by root) in a directory apps cannot read`);
    }
    if (!(await userMay(appsDir(this.config.state_dir), user, 1))) {
      this.log.warn({ state_dir: this.config.state_dir, app_user: name }, `app_user ${name} cannot reach ${appsDir(this.config.state_dir)} (a directory above it lets only its owner or group through): apps will fail to start`);
    }
  }
  // --- end security

  private async writeIdentity(): Promise<void> {
    const file = join(this.config.state_dir, 'agent.json');
    try {
      await readFile(file, 'utf8');
    } catch {
      await writeFileAtomic(file, `${JSON.stringify({ schema: 1, id: randomUUID(), created_at: new Date().toISOString() }, null, 1)}\n`, 0o600);
    }
  }
}
