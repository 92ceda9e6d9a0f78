// Longer than ~300 lines on purpose: the lifecycle's operations (activate, stop, start, tasks, crashes, reconcile) on one state; each step lives in its own module.
// One app on this host: what runs, in which state, and the work that changes
// it (activate, operator start and stop, crash restarts, reconcile after an
// agent restart). Every change of state goes through the pure lifecycle
// (app-state.ts, its diagram there): this class reports what happened as an
// event and carries out the effects the transition asks for. The steps with
// their own modules: an activation (activation.ts), reconcile (reconcile.ts),
// starting a release outside an activation (bring-up.ts).
//
// Every change of what runs goes through `exclusive`, one at a time per app.
import { SlipwayError } from '../../common/errors.js';
import { AppPaths } from '../paths.js';
import { explainDiskFull } from '../storage/disk-space.js';
import { readState, writeState, autoRollbackTarget, type AppState } from './state.js';
import { decideRestart, emptyHistory, type CrashHistory } from './restart-policy.js';
import { AppProcesses, type ReadinessProbe } from './app-processes.js';
import { transition, type AppEvent, type AppStateName, type Effect, type Lifecycle, type Transition } from './app-state.js';
import { activateRelease, type ActivateRequest } from './activation.js';
import { reconcileApp } from './reconcile.js';
import { processUid } from './app-users.js';
import type { Emit } from './strategies/strategy.js';
import { describeExit, type AppProcess, type ProcessRunner } from './process/runner.js';
import { realTimers, type AppHost, type EffectContext, type ReleaseSource, type Timers } from './app-host.js';
import { bringUp } from './bring-up.js';
import type { Release } from '../storage/releases.js';
import type { Logger } from '../logger.js';
import type { AgentEvents, ActivationEnded } from '../events.js';
import type { AppUser } from './app-env.js';
import type { Readable } from 'node:stream';

export { APP_STATES, type AppStateName } from './app-state.js';
export type { ActivateRequest } from './activation.js';
export type { Timers } from './app-host.js';

export interface RuntimeDeps {
  stateDir: string;
  releases: ReleaseSource;
  runner: ProcessRunner;
  /** Bind apps' sockets to this address instead of the manifest's host. */
  appBind?: string;
  log: Logger;
  logLimits: { bytes: number; files: number };
  /** Who each app runs as (app-users.ts's AppUsers); none: as the agent. */
  users?: { forApp(app: string): Promise<AppUser | undefined> };
  now?: () => number;
  events?: AgentEvents;
  /** The host's history of activations (agent/history.ts); written before an activation's outcome is told. */
  journal?: (e: ActivationEnded) => Promise<void>;
  timers?: Timers;
  /** How readiness is waited for; readiness.ts's waitReady unless a test drives it. */
  readiness?: ReadinessProbe;
}

export class AppRuntime {
  private life: Lifecycle = { name: 'stopped', reason: '' };
  private proc?: AppProcess;
  private release?: Release;
  private readonly procs: AppProcesses;
  private lock: Promise<unknown> = Promise.resolve();
  /** The activation in progress: when it began and the release it switches to. */
  private inProgress?: { since: number; to: { version: string; sha256: string } };
  private crashes: CrashHistory = emptyHistory();
  private cancelRestart?: () => void;
  /** Processes whose exit is watched (adopting one twice must not count its crash twice). */
  private readonly watched = new WeakSet<AppProcess>();
  private readonly paths: AppPaths;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly host: AppHost;

  private constructor(private readonly deps: RuntimeDeps, readonly app: string, private persisted: AppState) {
    this.paths = new AppPaths(deps.stateDir, app);
    this.log = deps.log.child({ app });
    this.now = deps.now ?? Date.now;
    this.timers = deps.timers ?? realTimers;
    this.procs = new AppProcesses({
      app, paths: this.paths, runner: deps.runner, appBind: deps.appBind, logLimits: deps.logLimits, user: async () => deps.users?.forApp(app),
      changed: () => this.saveState(), readiness: deps.readiness, now: () => this.now(), after: (ms, fn) => this.timers.after(ms, fn),
      warn: (message, fields) => this.log.warn(fields, message),
      drainKilled: (proc, max) => {
        this.drainKills++;
        this.log.warn({ pid: proc.pid, version: proc.version, max_draining: max }, `killed ${this.app} ${proc.version} (pid ${proc.pid}) before its drain deadline: more than stop.max_draining = ${max} old versions were draining`);
      },
    });
    this.host = this.makeHost();
  }

  static async load(deps: RuntimeDeps, app: string): Promise<AppRuntime> {
    return new AppRuntime(deps, app, await readState(new AppPaths(deps.stateDir, app).state, app));
  }

  /** Draining versions killed before their deadline because more than stop.max_draining drained (slipway_drain_killed_total). */
  drainKills = 0;

  get state(): AppStateName { return this.life.name; }
  get stateReason(): string { return this.life.reason; }
  get persistedState(): AppState { return this.persisted; }
  get running(): AppProcess | undefined { return this.proc?.running() ? this.proc : undefined; }
  get runningRelease(): Release | undefined { return this.running ? this.release : undefined; }

  /** The release an activation in progress switches to (prune never removes it). */
  get activating(): { version: string; sha256: string } | undefined {
    return this.inProgress?.to;
  }

  /** Switches the app to a release (activation.ts); the signal cancels it, leaving the old version serving. */
  async activate(req: ActivateRequest, emit: Emit, signal: AbortSignal = new AbortController().signal): Promise<void> {
    if (this.inProgress) {
      const s = Math.round((this.now() - this.inProgress.since) / 1000);
      throw new SlipwayError('SLIPWAY_ERR_BUSY', `an activation of ${this.app} is already in progress (started ${s} s ago); wait for it to end`);
    }
    this.inProgress = { since: this.now(), to: { version: req.version, sha256: req.sha256 } };
    const told = this.published(emit, req.version, this.runningRelease?.version ?? '');
    try {
      await this.exclusive(() => activateRelease(this.host, req, told, signal));
    } finally {
      this.inProgress = undefined;
    }
  }

  /** An operator's stop: the app stops and stays stopped; reconcile leaves it alone. */
  stopApp(given: Emit, by: string): Promise<void> {
    const emit = this.published(given, this.persisted.desired?.version ?? '', this.runningRelease?.version ?? '');
    return this.exclusive(async () => {
      const before = this.persisted;
      this.persisted = { ...before, stopped: true };
      try {
        await this.saveState();
      } catch (err) {
        // Not recorded, so not done: a stop a restarted agent would not know of would be undone by it.
        this.persisted = before;
        throw await explainDiskFull(err, this.paths.root, `${this.app} was not stopped (the stop could not be recorded); it runs as before`);
      }
      const proc = this.proc;
      if (proc?.running() && this.release) {
        emit('draining', { message: `stopping ${this.release.version} (pid ${proc.pid})`, pid: proc.pid });
        await this.procs.stop(proc, this.release);
      }
      await this.procs.killDraining();
      await this.drive({ type: 'stop', by });
      emit('done', { message: `${this.app} is stopped; it stays stopped until started` });
    });
  }

  /** An operator's start of the desired release; the signal gives up on it (the app stays stopped). */
  startApp(given: Emit, signal?: AbortSignal): Promise<void> {
    const emit = this.published(given, this.persisted.desired?.version ?? '', this.runningRelease?.version ?? '');
    return this.exclusive(async () => {
      if (this.proc?.running()) {
        emit('done', { message: `${this.app} ${this.release?.version} is already running (pid ${this.proc.pid})`, pid: this.proc.pid });
        return;
      }
      const desired = this.persisted.desired;
      if (!desired) throw new SlipwayError('SLIPWAY_ERR_NEVER_ACTIVATED', `${this.app} was never activated on this host; deploy a version first`);
      const release = await this.deps.releases.ensureUnpacked(this.app, desired.version, desired.sha256, () => emit('unpacking', { message: `unpacking ${desired.version}` }), signal);
      this.persisted = { ...this.persisted, stopped: false };
      await this.saveState();
      await this.drive({ type: 'start', version: release.version }, { release, emit, signal });
      const proc = this.running;
      if (this.life.name === 'running' && proc) emit('done', { message: `${this.app} ${release.version} is running (pid ${proc.pid})`, pid: proc.pid });
    });
  }

  /**
   * Runs a manifest task in the named release, or in the desired one, with
   * SLIPWAY_PID the app's running process (the newest ready one: during a
   * hot swap, the new version once it is ready), when one runs.
   */
  async runTask(name: string, ref: { version: string; sha256: string } | undefined, onLine: (stream: 'stdout' | 'stderr', line: string) => void, signal: AbortSignal, extra: { args?: string[]; stdin?: Buffer | Readable } = {}) {
    const target = ref ?? this.persisted.desired;
    if (!target) throw new SlipwayError('SLIPWAY_ERR_NEVER_ACTIVATED', `${this.app} was never activated on this host, so there is no release to run "${name}" in; deploy first`);
    const release = await this.deps.releases.ensureUnpacked(this.app, target.version, target.sha256, undefined, signal);
    const pid = (this.procs.newestReady() ?? this.running)?.pid;
    return { release, pid, result: await this.procs.runTask(name, release, onLine, signal, { ...extra, pid }) };
  }

  /** Re-attaches to what runs and brings the desired release up (reconcile.ts). */
  reconcile(): Promise<void> {
    return this.exclusive(() => reconcileApp(this.host));
  }

  /** Stops timers; the app itself keeps running (the agent's shutdown never stops apps). */
  detach(): void {
    this.clearRestartTimer();
  }

  /** Runs fn when no other change of this app is in progress. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private makeHost(): AppHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host's accessors are getters, whose own `this` is the host
    const rt = this;
    return {
      app: this.app, paths: this.paths, log: this.log, procs: this.procs, releases: this.deps.releases, runner: this.deps.runner, events: this.deps.events, journal: this.deps.journal,
      now: () => this.now(),
      get persisted() { return rt.persisted; },
      set persisted(s: AppState) { rt.persisted = s; },
      get lifecycle() { return rt.life; },
      get activationPending() { return rt.inProgress !== undefined; },
      serving: () => (this.proc?.running() && this.release ? { proc: this.proc, release: this.release } : undefined),
      drive: (event, ctx) => this.drive(event, ctx),
      adopt: (proc, release) => this.adopt(proc, release),
      forget: () => { this.proc = undefined; },
      saveState: () => this.saveState(),
    };
  }

  /** Moves the lifecycle on by one event (app-state.ts) and carries out its effects, in order. */
  private async drive(event: AppEvent, ctx: EffectContext = {}): Promise<Transition> {
    const t = transition(this.life, event);
    if (t.refused) {
      this.log.warn({ event: event.type, state: this.life.name, reason: t.refused }, `refused ${event.type} in state ${this.life.name}`);
      return t;
    }
    const from = this.life;
    this.life = t.state;
    if (t.state.name !== from.name) {
      const reason = t.state.reason;
      this.log.info({ state: t.state.name, from: from.name, reason: reason || undefined }, `app state ${t.state.name}`);
      this.deps.events?.emit('state', { app: this.app, state: t.state.name, from: from.name, reason });
    }
    for (const effect of t.effects) await this.perform(effect, ctx);
    return t;
  }

  private async perform(effect: Effect, ctx: EffectContext): Promise<void> {
    const release = () => {
      if (!ctx.release) throw new Error(`the lifecycle effect ${effect.kind} needs a release`);
      return ctx.release;
    };
    switch (effect.kind) {
      case 'cancel_restart': return this.clearRestartTimer();
      case 'reset_crashes':
        this.crashes = emptyHistory();
        return;
      case 'record_crash':
        this.crashes = effect.history;
        this.persisted = { ...this.persisted, restarts: this.persisted.restarts + 1 };
        void this.saveState().catch(() => undefined);
        return;
      case 'schedule_restart': return this.scheduleRestart(release(), effect.delayMs, effect.why);
      case 'consider_rollback': return this.considerRollback(release(), effect.why);
      case 'start_release': return bringUp(this.host, release(), ctx);
      case 'stop_process':
        if (ctx.proc) await this.procs.stop(ctx.proc, release());
        return;
      case 'report_crash':
        if (ctx.proc) await this.crashed(ctx.proc, release(), effect.how);
        return;
    }
  }

  /** Makes proc the app's running process and watches it for crashes. */
  private adopt(proc: AppProcess, release: Release): void {
    this.proc = proc;
    this.release = release;
    if (this.watched.has(proc)) return;
    this.watched.add(proc);
    void this.checkUser(proc);
    void proc.exited.then((exit) => {
      void this.saveState().catch(() => undefined);
      // An exit this runtime asked for is no crash; one another agent asked for (before a kill) is, if proc still serves.
      if (this.proc !== proc || (exit.requested && this.procs.wasStopped(proc))) return;
      return this.crashed(proc, release, describeExit(exit));
    }).catch((err: unknown) => this.log.error({ err }, 'handling an exit failed'));
  }

  /** Warns when a running process (found after an agent restart) runs as another user than the config gives the app now. */
  private async checkUser(proc: AppProcess): Promise<void> {
    const user = await this.deps.users?.forApp(this.app).catch(() => undefined);
    const uid = processUid(proc.pid);
    if (!user || uid === undefined || uid === user.uid) return;
    this.log.warn({ pid: proc.pid, uid, user: user.name, user_uid: user.uid },
      `${this.app} (pid ${proc.pid}) runs as uid ${uid}, but the agent config now runs it as ${user.name} (uid ${user.uid}): restart it (slipway restart, or the next deploy) to apply; its data and tmp dirs are handed over to ${user.name} then`);
  }

  /** A process of the app ended on its own (or never became ready): the restart policy decides, the lifecycle follows. */
  private crashed(proc: AppProcess, release: Release, how: string): Promise<Transition> {
    const now = this.now();
    const decision = decideRestart(release.manifest.run.restart, this.crashes, now - proc.startedAt.getTime(), now);
    if (decision.action === 'crashloop') this.log.error({ version: release.version, reason: decision.reason }, `${this.app} ${how}: crash loop, restarts stopped`);
    return this.drive({ type: 'crashed', how, decision }, { proc, release });
  }

  private scheduleRestart(release: Release, delayMs: number, why: string): void {
    this.log.warn({ version: release.version, delay_ms: delayMs }, `${this.app} ${why}`);
    this.deps.events?.emit('restart', { app: this.app, version: release.version, reason: why });
    this.clearRestartTimer();
    this.cancelRestart = this.timers.after(delayMs, () => {
      this.cancelRestart = undefined;
      void this.exclusive(() => this.drive({ type: 'restart_due', version: release.version }, { release }))
        .catch((err: unknown) => this.log.error({ err }, 'restart failed'));
    });
  }

  private clearRestartTimer(): void {
    this.cancelRestart?.();
    this.cancelRestart = undefined;
  }

  /**
   * A crash loop right after an activation (within run.restart.min_healthy_s)
   * goes back to the rollback target on its own; otherwise the app stays in
   * crashloop until an operator acts.
   */
  private considerRollback(release: Release, why: string): void {
    const back = autoRollbackTarget(this.persisted, release, this.now(), release.manifest.run.restart.min_healthy_s);
    if (!back) return;
    const { target, sinceS } = back;
    this.log.error({ from: release.version, to: target.version, reason: why }, `crash loop ${Math.round(sinceS)} s after activating ${release.version}: rolling back to ${target.version}`);
    void this.activate({
      version: target.version, sha256: target.sha256, strategy: '', reason: 'auto_rollback', undo: true,
      requested_by: 'slipway-agent', note: `crash loop of ${release.version}: ${why}`,
    }, (event, d) => this.log.info({ event, ...d }, `auto rollback: ${event}`)).catch((err: unknown) => this.log.error({ err }, 'auto rollback failed'));
  }

  /** emit, and each event also told to the agent's watchers (AgentEvents 'step', the Watch RPC). */
  private published(emit: Emit, version: string, from: string): Emit {
    const events = this.deps.events;
    if (!events) return emit;
    const t0 = this.now();
    return (event, d = {}) => {
      emit(event, d);
      const now = this.now();
      events.emit('step', {
        app: this.app, version, from_version: from, event, message: d.message ?? '', at: new Date(now).toISOString(),
        elapsed_s: (now - t0) / 1000, pid: d.pid ?? 0, output: d.output ?? [],
      });
    };
  }

  private saving: Promise<void> = Promise.resolve();

  /** Writes state.json with the live processes; writes are serialised. */
  private saveState(): Promise<void> {
    const next = this.saving.then(async () => {
      this.persisted = { ...this.persisted, processes: this.procs.records() };
      await writeState(this.paths.state, this.persisted);
    });
    this.saving = next.catch((err: unknown) => this.log.error({ err }, 'could not write state.json'));
    return next;
  }
}
