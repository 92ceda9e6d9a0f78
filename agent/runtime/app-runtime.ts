// One app on this host: what runs, in which state, and the work that changes
// it (activate, crash restarts, reconcile after an agent restart).
//
//            activate                 ready
//   stopped ───────────► activating ───────► running ◄───────┐
//      ▲                     │ failed (old one restored)  │      │ ready
//      │                     ▼                            │crash │
//      └──────────────── (previous state)                 ▼      │
//                                                      backoff ──► starting
//                                    too many crashes ─► crashloop
//
// Every change of what runs goes through `exclusive`, one at a time per app.
import { relative } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import { swapSymlink, readlinkOrUndefined } from '../../common/atomic.js';
import { AppPaths } from '../paths.js';
import { readState, writeState, afterActivation, afterFailure, afterRestart, rollbackTarget, type AppState, type ActivationRecord } from './state.js';
import { NotReadyError } from './readiness.js';
import { decideRestart, emptyHistory, type CrashHistory } from './restart-policy.js';
import { endRecordedProcess } from './process/proc.js';
import { AppProcesses } from './app-processes.js';
import { chooseStrategy } from './strategies/index.js';
import { ActivationFailed, type Emit } from './strategies/strategy.js';
import { describeExit, type AppProcess, type ProcessRunner } from './process/runner.js';
import type { Release, Releases } from '../storage/releases.js';
import type { Logger } from '../logger.js';
import type { AgentEvents } from '../events.js';
import type { AppUser } from './app-env.js';

export const APP_STATES = ['stopped', 'starting', 'running', 'backoff', 'crashloop', 'activating'] as const;
export type AppStateName = (typeof APP_STATES)[number];

export interface RuntimeDeps {
  stateDir: string;
  releases: Releases;
  runner: ProcessRunner;
  /** Bind apps' sockets to this address instead of the manifest's host. */
  appBind?: string;
  log: Logger;
  logLimits: { bytes: number; files: number };
  user?: AppUser;
  now?: () => number;
  events?: AgentEvents;
}

export interface ActivateRequest {
  version: string;
  sha256: string;
  strategy: string;
  reason: string;
  requested_by: string;
  /** Pop the current activation instead of pushing: the release must be the rollback target. */
  undo: boolean;
  /** A restart onto the release that runs: done even if it runs, and recorded in the history only. */
  restart?: boolean;
  /** Recorded with the activation, e.g. why the agent rolled back on its own. */
  note?: string;
}

export class AppRuntime {
  state: AppStateName = 'stopped';
  stateReason = '';
  private proc?: AppProcess;
  private release?: Release;
  private readonly procs: AppProcesses;
  private lock: Promise<unknown> = Promise.resolve();
  /** The activation in progress: when it began and the release it switches to. */
  private inProgress?: { since: number; to: { version: string; sha256: string } };
  private crashes: CrashHistory = emptyHistory();
  private restartTimer?: NodeJS.Timeout;
  private readonly paths: AppPaths;
  private readonly log: Logger;
  private readonly now: () => number;

  private constructor(private readonly deps: RuntimeDeps, readonly app: string, private persisted: AppState) {
    this.paths = new AppPaths(deps.stateDir, app);
    this.log = deps.log.child({ app });
    this.now = deps.now ?? Date.now;
    this.procs = new AppProcesses({
      app, paths: this.paths, runner: deps.runner, appBind: deps.appBind, logLimits: deps.logLimits, user: deps.user,
      changed: () => this.saveState(),
    });
  }

  static async load(deps: RuntimeDeps, app: string): Promise<AppRuntime> {
    return new AppRuntime(deps, app, await readState(new AppPaths(deps.stateDir, app).state, app));
  }

  get persistedState(): AppState { return this.persisted; }
  get running(): AppProcess | undefined { return this.proc?.running() ? this.proc : undefined; }
  get runningRelease(): Release | undefined { return this.running ? this.release : undefined; }

  /** Runs fn when no other change of this app is in progress. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private setState(state: AppStateName, reason = ''): void {
    if (state !== this.state) {
      this.log.info({ state, from: this.state, reason: reason || undefined }, `app state ${state}`);
      this.deps.events?.emit('state', { app: this.app, state, from: this.state, reason });
    }
    this.state = state;
    this.stateReason = reason;
  }

  async activate(req: ActivateRequest, emit: Emit): Promise<void> {
    if (this.inProgress) {
      const s = Math.round((this.now() - this.inProgress.since) / 1000);
      throw new SlipwayError('ABORTED', `an activation of ${this.app} is already in progress (started ${s} s ago); wait for it to end`);
    }
    this.inProgress = { since: this.now(), to: { version: req.version, sha256: req.sha256 } };
    try {
      await this.exclusive(() => this.doActivate(req, emit));
    } finally {
      this.inProgress = undefined;
    }
  }

  /** The release an activation in progress switches to (prune never removes it). */
  get activating(): { version: string; sha256: string } | undefined {
    return this.inProgress?.to;
  }

  private async doActivate(req: ActivateRequest, emit: Emit): Promise<void> {
    const started = this.now();
    if (req.undo) {
      const target = rollbackTarget(this.persisted);
      if (!target || target.sha256 !== req.sha256) {
        const has = target ? `${target.version} (${target.sha256.slice(0, 12)})` : 'none (fewer than two successful activations)';
        throw new SlipwayError('FAILED_PRECONDITION', `the rollback target of ${this.app} on this host is ${has}, not ${req.version} (${req.sha256.slice(0, 12)})`);
      }
    }
    const cur = this.runningRelease;
    if (!req.undo && !req.restart && cur && cur.sha256 === req.sha256 && this.state === 'running') {
      emit('done', { message: `${this.app} ${req.version} is already running (pid ${this.proc?.pid})`, pid: this.proc?.pid });
      return;
    }
    const release = await this.deps.releases.ensureUnpacked(this.app, req.version, req.sha256, () => emit('unpacking', { message: `unpacking ${req.version}` }));
    const strategy = chooseStrategy(req.strategy, release.manifest.run);
    const before = { state: this.state, reason: this.stateReason };
    this.setState('activating', `to ${req.version}`);
    this.clearRestartTimer();
    // A version two swaps old that still drains is killed at once.
    await this.procs.killDraining();
    const from = this.proc?.running() && this.release ? { proc: this.proc, release: this.release } : undefined;
    const record = (result: 'done' | 'failed', message: string): ActivationRecord => ({
      version: req.version, sha256: req.sha256, at: new Date(started).toISOString(), strategy: strategy.name,
      reason: req.reason || 'deploy', result, message: req.note ? `${req.note}; ${message}` : message, requested_by: req.requested_by,
    });
    try {
      const { proc } = await strategy.activate({
        app: this.app, from, to: release, emit,
        start: (r) => this.procs.start(r),
        waitReady: (p, r) => this.procs.waitReady(p, r),
        stop: (p, r) => this.procs.stop(p, r),
        runCommand: (argv, r, pid) => this.procs.runInRelease(argv, r, pid, release),
      });
      this.adopt(proc, release);
      await swapSymlink(this.paths.current, relative(this.paths.root, release.dir));
      const secs = ((this.now() - started) / 1000).toFixed(2);
      const rec = record('done', `${strategy.name} in ${secs} s`);
      this.persisted = req.restart ? afterRestart(this.persisted, rec) : afterActivation(this.persisted, rec, req.undo);
      await this.saveState();
      this.crashes = emptyHistory();
      this.setState('running');
      this.deps.events?.emit('activation', { app: this.app, version: req.version, strategy: strategy.name, result: 'done', seconds: (this.now() - started) / 1000, reason: req.reason || 'deploy', from: from?.release.version ?? '', who: req.requested_by, message: rec.message });
      // A rollout that puts a host back says so with its own event.
      emit(req.reason === 'revert' ? 'rolled_back' : req.reason === 'auto_rollback' ? 'auto_rolled_back' : 'done', { message: `${this.app} ${req.version} is running (pid ${proc.pid}); ${strategy.name} took ${secs} s`, pid: proc.pid });
    } catch (err) {
      if (!(err instanceof ActivationFailed)) {
        this.setState(before.state, before.reason);
        throw err;
      }
      if (err.restored && from) {
        this.adopt(err.restored, from.release);
        this.setState('running');
      } else if (from?.proc.running()) {
        this.setState(before.state, before.reason);
      } else {
        this.setState('stopped', `activation of ${req.version} failed: ${err.message}`);
      }
      this.persisted = afterFailure(this.persisted, record('failed', err.message));
      this.deps.events?.emit('activation', { app: this.app, version: req.version, strategy: strategy.name, result: 'failed', seconds: (this.now() - started) / 1000, reason: req.reason || 'deploy', from: from?.release.version ?? '', who: req.requested_by, message: err.message });
      await this.saveState();
      this.log.warn({ version: req.version, reason: err.message }, 'activation failed');
      emit('failed', { message: err.message, output: err.output });
    }
  }

  /** An operator's stop: the app stops and stays stopped; reconcile leaves it alone. */
  stopApp(emit: Emit, by: string): Promise<void> {
    return this.exclusive(async () => {
      this.clearRestartTimer();
      this.persisted = { ...this.persisted, stopped: true };
      await this.saveState();
      const proc = this.proc;
      if (proc?.running() && this.release) {
        emit('draining', { message: `stopping ${this.release.version} (pid ${proc.pid})`, pid: proc.pid });
        await this.procs.stop(proc, this.release);
      }
      await this.procs.killDraining();
      this.setState('stopped', `stopped by ${by || 'an operator'}`);
      emit('done', { message: `${this.app} is stopped; it stays stopped until started` });
    });
  }

  /** An operator's start of the desired release. */
  startApp(emit: Emit): Promise<void> {
    return this.exclusive(async () => {
      if (this.proc?.running()) {
        emit('done', { message: `${this.app} ${this.release?.version} is already running (pid ${this.proc.pid})`, pid: this.proc.pid });
        return;
      }
      const desired = this.persisted.desired;
      if (!desired) throw new SlipwayError('FAILED_PRECONDITION', `${this.app} was never activated on this host; deploy a version first`);
      const release = await this.deps.releases.ensureUnpacked(this.app, desired.version, desired.sha256, () => emit('unpacking', { message: `unpacking ${desired.version}` }));
      this.clearRestartTimer();
      this.crashes = emptyHistory();
      this.persisted = { ...this.persisted, stopped: false };
      await this.saveState();
      this.setState('starting', release.version);
      const proc = await this.procs.start(release);
      this.adopt(proc, release);
      emit('starting', { message: `started ${release.version} (pid ${proc.pid})`, pid: proc.pid });
      try {
        await this.procs.waitReady(proc, release);
      } catch (err) {
        const output = err instanceof NotReadyError ? err.output : await proc.lastOutput(20);
        await this.procs.stop(proc, release);
        this.setState('stopped', `start failed: ${(err as Error).message}`);
        emit('failed', { message: (err as Error).message, output });
        return;
      }
      this.setState('running');
      emit('ready', { message: `${release.version} is ready (pid ${proc.pid})`, pid: proc.pid });
      emit('done', { message: `${this.app} ${release.version} is running (pid ${proc.pid})`, pid: proc.pid });
    });
  }

  /** Runs a manifest task in the named release, or in the desired one. */
  async runTask(name: string, ref: { version: string; sha256: string } | undefined, onLine: (stream: 'stdout' | 'stderr', line: string) => void, signal: AbortSignal) {
    const target = ref ?? this.persisted.desired;
    if (!target) throw new SlipwayError('FAILED_PRECONDITION', `${this.app} was never activated on this host, so there is no release to run "${name}" in; deploy first`);
    const release = await this.deps.releases.ensureUnpacked(this.app, target.version, target.sha256);
    return { release, result: await this.procs.runTask(name, release, onLine, signal) };
  }

  /** Makes proc the app's running process and watches it for crashes. */
  private adopt(proc: AppProcess, release: Release): void {
    this.proc = proc;
    this.release = release;
    void proc.exited.then((exit) => {
      void this.saveState();
      if (exit.requested || this.proc !== proc) return;
      this.onCrash(proc, describeExit(exit));
    });
  }

  private onCrash(proc: AppProcess, how: string): void {
    const release = this.release;
    if (!release) return;
    const decision = decideRestart(release.manifest.run.restart, this.crashes, this.now() - proc.startedAt.getTime(), this.now());
    this.crashes = decision.history;
    this.persisted = { ...this.persisted, restarts: this.persisted.restarts + 1 };
    if (decision.action === 'crashloop') {
      this.log.error({ version: release.version, reason: decision.reason }, `${this.app} ${how}: crash loop, restarts stopped`);
      this.setState('crashloop', `${how}; ${decision.reason}`);
      void this.saveState();
      this.maybeAutoRollback(release, `${how}; ${decision.reason}`);
      return;
    }
    this.log.warn({ version: release.version, delay_ms: decision.delayMs }, `${this.app} ${how}; ${decision.reason}`);
    this.setState('backoff', `${how}; ${decision.reason}`);
    this.deps.events?.emit('restart', { app: this.app, version: release.version, reason: `${how}; ${decision.reason}` });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.exclusive(() => this.bringUp(release)).catch((err: unknown) => this.log.error({ err }, 'restart failed'));
    }, decision.delayMs);
  }

  /** Starts a release as the app's process and waits until it is ready; a failure counts as a crash. */
  private async bringUp(release: Release): Promise<void> {
    if (this.proc?.running()) return;
    this.setState('starting', `${release.version}`);
    let proc: AppProcess;
    try {
      proc = await this.procs.start(release);
    } catch (err) {
      this.setState('crashloop', `cannot start ${release.version}: ${(err as Error).message}`);
      return;
    }
    this.adopt(proc, release);
    try {
      await this.procs.waitReady(proc, release);
      this.setState('running');
    } catch (err) {
      if (!proc.running()) return; // the exit handler decides what comes next
      this.log.warn({ version: release.version, reason: (err as Error).message }, 'not ready in time; stopping it');
      await proc.stop(release.manifest.run.stop.signal, release.manifest.run.stop.drain_timeout_s * 1000);
      this.onCrash(proc, err instanceof NotReadyError ? err.message : String(err));
    }
  }

  /**
   * A crash loop right after an activation (within run.restart.min_healthy_s)
   * goes back to the rollback target on its own; otherwise the app stays in
   * crashloop until an operator acts.
   */
  private maybeAutoRollback(release: Release, why: string): void {
    const top = this.persisted.stack.at(-1);
    const target = rollbackTarget(this.persisted);
    const sinceS = top ? (this.now() - Date.parse(top.at)) / 1000 : Infinity;
    if (!top || !target || top.sha256 !== release.sha256 || sinceS >= release.manifest.run.restart.min_healthy_s) return;
    this.log.error({ from: release.version, to: target.version, reason: why }, `crash loop ${Math.round(sinceS)} s after activating ${release.version}: rolling back to ${target.version}`);
    void this.activate({
      version: target.version, sha256: target.sha256, strategy: '', reason: 'auto_rollback', undo: true,
      requested_by: 'slipway-agent', note: `crash loop of ${release.version}: ${why}`,
    }, (event, d) => this.log.info({ event, ...d }, `auto rollback: ${event}`)).catch((err: unknown) => this.log.error({ err }, 'auto rollback failed'));
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
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

  /**
   * After an agent start, and on the reconcile schedule: re-attach to what
   * the supervising process still runs, end processes whose supervisor is
   * gone (checked by start time, so a reused pid is never hit), remove temp
   * leftovers, and bring the desired release up if it does not run. The rule
   * for an interrupted activation: state.json's desired release is the truth;
   * a version that runs beside it is stopped. It never restarts an app that
   * serves its desired release.
   */
  reconcile(): Promise<void> {
    return this.exclusive(async () => {
      await this.deps.releases.removeTempLeftovers(this.app);
      const supervised = await this.deps.runner.attach(this.app);
      const known = new Set(supervised.map((p) => p.pid));
      for (const rec of this.persisted.processes) {
        if (known.has(rec.pid)) continue;
        if (await endRecordedProcess(rec.pid, rec.start_ticks, 'SIGTERM', 10_000)) {
          this.log.warn({ pid: rec.pid, version: rec.version }, 'ended an app process left without its supervising process');
        }
      }
      const live = supervised.filter((p) => p.running());
      const desired = this.persisted.desired;
      const keep = desired && !this.persisted.stopped ? live.find((p) => p.sha256 === desired.sha256) : undefined;
      for (const p of live) {
        if (p === keep) continue;
        this.log.warn({ pid: p.pid, version: p.version }, 'stopping a process that is not the desired release (left by an interrupted activation)');
        await p.stop('SIGTERM', 10_000);
      }
      if (!desired || this.persisted.stopped) {
        await this.saveState();
        this.setState('stopped', desired ? 'stopped by an operator' : 'never activated');
        return;
      }
      let release: Release;
      try {
        release = await this.deps.releases.ensureUnpacked(this.app, desired.version, desired.sha256);
      } catch (err) {
        this.setState('stopped', `desired release ${desired.version} cannot be used: ${(err as Error).message}`);
        this.log.error({ err, version: desired.version }, 'desired release cannot be used');
        return;
      }
      const want = relative(this.paths.root, release.dir);
      if ((await readlinkOrUndefined(this.paths.current)) !== want) await swapSymlink(this.paths.current, want);
      if (keep) {
        this.procs.track(keep);
        this.adopt(keep, release);
        await this.saveState();
        if (this.state !== 'running') this.log.info({ pid: keep.pid, version: release.version }, 're-attached to the running app');
        this.setState('running');
        return;
      }
      await this.saveState();
      if (this.state === 'crashloop' || this.inProgress || this.restartTimer) return;
      await this.bringUp(release);
    });
  }

  /** Stops timers; the app itself keeps running (the agent's shutdown never stops apps). */
  detach(): void {
    this.clearRestartTimer();
  }
}
