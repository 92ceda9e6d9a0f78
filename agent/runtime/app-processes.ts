// The processes of one app, as the runtime's state machine uses them: start
// a release (with the app's environment and sockets), wait until it is ready,
// stop it (drain, then SIGKILL), run an upgrade command in it, and know which
// are still alive for state.json, and which of them drain (recorded there
// with when the stop signal went and the drain's deadline, so that an agent
// started after a kill never takes a draining version for the serving one).
// Longer than ~300 lines on purpose: start, stop, drain and the upgrade
// command share the process records and the app's user and dirs.
import { AppLog } from './process/app-log.js';
import { runCommand, type RunResult } from './process/run-command.js';
import { SlipwayError } from '../../common/errors.js';
import { appEnvironment, heartSettings, releaseVmArgs, type AppUser } from './app-env.js';
import { ensureAppDirs } from './app-dirs.js';
import { waitReady, type ReadyOptions } from './readiness.js';
import type { AppPaths } from '../paths.js';
import type { AppProcess, ProcessRunner } from './process/runner.js';
import type { ProcessRecord, ReleaseId } from './state.js';
import type { Release } from '../storage/releases.js';
import { DEFAULT_MAX_DRAINING, type RunSpec } from '../../common/manifest.js';
import type { Readable } from 'node:stream';

/** How a process is stopped: run.stop of its release's manifest. */
export type StopSpec = Pick<RunSpec['stop'], 'signal' | 'drain_timeout_s'>;

export interface AppProcessesDeps {
  app: string;
  paths: AppPaths;
  runner: ProcessRunner;
  appBind?: string;
  logLimits: { bytes: number; files: number };
  /** The user the app runs as (app-users.ts; none: as the agent); throws when it is missing and cannot be made. */
  user?: () => Promise<AppUser | undefined>;
  /** Called when the set of live processes changed (state.json records them). */
  changed: () => Promise<void>;
  /** How readiness is waited for (readiness.ts's waitReady: notify, uptime, command, http and tcp checks). */
  readiness?: ReadinessProbe;
  now: () => number;
  /** Runs fn in ms; returns its cancel (the runtime's timers). */
  after: (ms: number, fn: () => void) => () => void;
  /** A draining version was killed early: more than max versions drained at once. */
  drainKilled?: (proc: AppProcess, max: number) => void;
  /** Something about a start the operator should hear of (heart turned on). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

/** What a task gets beside its manifest command: arguments, its stdin, the running process (SLIPWAY_PID). */
export interface TaskExtras {
  args?: string[];
  stdin?: Buffer | Readable;
  pid?: number;
}

/** A drain under way: when the stop signal went, and when the supervising process kills what is left. */
export interface Drain {
  sentAt: number;
  deadline: number;
}

/** Resolves once the process is ready; rejects (NotReadyError) when it is not, or on the abort. */
export type ReadinessProbe = (o: ReadyOptions) => Promise<unknown>;

export class AppProcesses {
  private readonly live = new Set<AppProcess>();
  /** Old versions draining after a swap or a stop. */
  private readonly drains = new Map<AppProcess, Drain>();
  /** Processes the runtime asked to stop: their exit is no crash. */
  private readonly asked = new WeakSet<AppProcess>();
  /** Draining versions killed early (beyond stop.max_draining). */
  private readonly cut = new WeakSet<AppProcess>();
  /** Processes an in-place upgrade (the upgrade command) moved to another release than the one they were started with. */
  private readonly upgrades = new WeakMap<AppProcess, ReleaseId>();

  constructor(private readonly d: AppProcessesDeps) {}

  /**
   * Who a release's processes run as, and their environment
   * (agent/runtime/app-env.ts); the app's own dirs are made (or handed over
   * to its user, when that changed) first.
   */
  private async context(release: Release): Promise<{ env: Record<string, string>; user: AppUser | undefined }> {
    const user = await this.d.user?.();
    const dirs = { data: this.d.paths.data, tmp: this.d.paths.tmp };
    for (const h of await ensureAppDirs(dirs, user)) {
      this.d.warn?.(`${h.dir} belonged to uid ${h.fromUid}: handed over, with what it holds, to ${user?.name} (uid ${user?.uid}), the user ${this.d.app} runs as now`, { dir: h.dir, from_uid: h.fromUid, user: user?.name, uid: user?.uid });
    }
    return { env: await appEnvironment(release.manifest.run.env, this.d.paths.sharedEnv, user, dirs), user };
  }

  async start(release: Release): Promise<AppProcess> {
    const run = release.manifest.run;
    const { env, user } = await this.context(release);
    const heart = heartSettings(env, await releaseVmArgs(release.dir));
    if (heart.length > 0) {
      this.d.warn?.(`${this.d.app} ${release.version} turns Erlang's heart on (${heart.join('; ')}): under slipway the supervising process is the heart `
        + '(run.restart restarts a crashed app, a crash loop stops it and rolls back), and heart would start BEAMs outside its supervision; remove -heart', { version: release.version, heart });
    }
    const proc = await this.d.runner.start({
      app: this.d.app, version: release.version, sha256: release.sha256, releaseDir: release.dir, command: run.command,
      env,
      sockets: run.listen.map((l) => ({ name: l.name, host: this.d.appBind ?? l.host, port: l.port })),
      logDir: this.d.paths.logs, logBytes: this.d.logLimits.bytes, logFiles: this.d.logLimits.files,
      uid: user?.uid, gid: user?.gid,
    });
    this.track(proc);
    // The process runs whatever happens to this write (a full disk): the supervising process knows it, and the caller must own it.
    await this.persist();
    return proc;
  }

  /** Writes state.json's process records; a failure (logged by the writer) changes nothing here. */
  private async persist(): Promise<void> {
    await this.d.changed().catch(() => undefined);
  }

  /** The release proc runs: the one it was started with, or the one an in-place upgrade moved it to. */
  idOf(proc: AppProcess): ReleaseId {
    return this.upgrades.get(proc) ?? { version: proc.version, sha256: proc.sha256 };
  }

  /** proc now runs `to` (an upgrade command succeeded, or state.json says one did before an agent restart). */
  upgraded(proc: AppProcess, to: ReleaseId): void {
    if (to.sha256 === proc.sha256) this.upgrades.delete(proc);
    else this.upgrades.set(proc, { version: to.version, sha256: to.sha256 });
  }

  /** Counts a process as this app's (one started here, or found after an agent restart). */
  track(proc: AppProcess): void {
    this.live.add(proc);
    void proc.exited.then(() => this.live.delete(proc));
  }

  /** Waits until the process is ready; an abort ends the wait with a NotReadyError. */
  async waitReady(proc: AppProcess, release: Release, signal?: AbortSignal): Promise<void> {
    const run = release.manifest.run;
    const { env, user } = await this.context(release);
    await (this.d.readiness ?? waitReady)({ run, proc, releaseDir: release.dir, env, user, signal });
    this.ready.add(proc);
  }

  /** Ready processes (seen ready here, or kept by reconcile: markReady). */
  private readonly ready = new WeakSet<AppProcess>();

  markReady(proc: AppProcess): void {
    this.ready.add(proc);
  }

  /** The newest ready process that does not drain (during a hot swap: the new version once it is ready). */
  newestReady(): AppProcess | undefined {
    return [...this.live].filter((p) => p.running() && this.ready.has(p) && !this.drains.has(p))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  }

  /** The release's stop signal, then SIGKILL of its group at stop.drain_timeout_s; resolves once it has exited. */
  async stop(proc: AppProcess, release: Release): Promise<void> {
    await (await this.signal(proc, release.manifest.run.stop)).ended;
  }

  /**
   * Sends the stop signal (the release's run.stop) and lets it drain on its
   * own (until drain_timeout_s, when the supervising process kills what is
   * left); resolves once the signal went, recorded first in state.json.
   */
  async drain(proc: AppProcess, stop: StopSpec, maxDraining = DEFAULT_MAX_DRAINING): Promise<void> {
    this.track(proc);
    await this.signal(proc, stop);
    this.limitDraining(maxDraining);
  }

  /** Beyond maxDraining versions draining at once, the oldest are killed now (a version's own deadline is otherwise kept). */
  private limitDraining(maxDraining: number): void {
    const left = this.draining().filter((p) => !this.cut.has(p));
    for (const p of left.slice(0, Math.max(0, left.length - maxDraining))) {
      this.cut.add(p);
      this.d.drainKilled?.(p, maxDraining);
      void p.stop('SIGKILL', 0);
    }
  }

  /** Marks proc as draining, records it, sends the stop signal; `ended` settles when proc has exited. */
  private async signal(proc: AppProcess, stop: StopSpec): Promise<{ ended: Promise<void> }> {
    if (!proc.running()) return { ended: Promise.resolve() };
    if (this.drains.has(proc)) return { ended: this.ended(proc) };
    const now = this.d.now();
    this.drains.set(proc, { sentAt: now, deadline: now + stop.drain_timeout_s * 1000 });
    this.asked.add(proc);
    await this.persist();
    void proc.stop(stop.signal, stop.drain_timeout_s * 1000);
    return { ended: this.ended(proc) };
  }

  /**
   * A drain an earlier agent began (state.json says so): not signalled
   * again (a second SIGTERM makes some apps quit at once); if the process
   * still runs at the recorded deadline (the signal may never have gone out),
   * it is killed then.
   */
  resumeDrain(proc: AppProcess, drain: Drain): void {
    if (this.drains.has(proc) || !proc.running()) return;
    this.track(proc);
    this.drains.set(proc, drain);
    this.asked.add(proc);
    const cancel = this.d.after(Math.max(0, drain.deadline - this.d.now()), () => void proc.stop('SIGKILL', 0));
    void this.ended(proc).then(cancel);
  }

  /** Settles when proc has exited; then it is no longer draining, and state.json says so. */
  private ended(proc: AppProcess): Promise<void> {
    return proc.exited.then(async () => {
      if (this.drains.delete(proc)) await this.persist();
    });
  }

  /**
   * Whether proc is ready now, on evidence it already gave: READY=1 seen by
   * the supervising process, or (for apps that cannot signal, without a
   * command check) up for run.min_uptime_s. Never waits for more.
   */
  async readyNow(proc: AppProcess, release: Release): Promise<boolean> {
    const run = release.manifest.run;
    const notified = await Promise.race([proc.notifiedReady.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
    if (notified) return proc.running();
    return proc.running() && !run.notify && !run.health?.command && this.d.now() - proc.startedAt.getTime() >= run.min_uptime_s * 1000;
  }

  /** Whether proc drains (it must never be taken for the serving process). */
  isDraining(proc: AppProcess): boolean {
    return this.drains.has(proc);
  }

  /** Whether the runtime asked proc to stop (its exit is then no crash). */
  wasStopped(proc: AppProcess): boolean {
    return this.asked.has(proc);
  }

  /** The versions still draining, oldest first. */
  draining(): AppProcess[] {
    return [...this.drains.entries()].sort((a, b) => a[1].sentAt - b[1].sentAt).map(([p]) => p);
  }

  /** Versions still draining are killed at once (an operator's stop). */
  async killDraining(): Promise<void> {
    await Promise.all(this.draining().map((p) => p.stop('SIGKILL', 0)));
  }

  /**
   * Runs an upgrade command (the `command` strategy) in the running release's
   * directory, or its version probe in the new one; the command learns both
   * (SLIPWAY_FROM_*: what runs, SLIPWAY_VERSION/RELEASE_DIR: what it goes
   * to). An abort kills it.
   */
  async runInRelease(argv: string[], release: Release, pid: number, next: Release, signal?: AbortSignal): Promise<{ code: number | null; output: string[] }> {
    const { env: base, user } = await this.context(release);
    const env = {
      ...base,
      SLIPWAY_APP: this.d.app, SLIPWAY_PID: String(pid), SLIPWAY_VERSION: next.version, SLIPWAY_RELEASE_DIR: next.dir,
      SLIPWAY_FROM_VERSION: release.version, SLIPWAY_FROM_RELEASE_DIR: release.dir,
    };
    const timeoutMs = (next.manifest.run.health?.timeout_s ?? 60) * 1000;
    const log = new AppLog(this.d.paths.logs, this.d.logLimits.bytes, this.d.logLimits.files);
    log.note(`upgrade command in ${release.version}: ${argv.join(' ')}`);
    try {
      return await runCommand(argv, { cwd: release.dir, env, timeoutMs, log, user, signal });
    } finally {
      log.close();
    }
  }

  /** Runs a manifest task in a release's directory with the app's environment; no deadline, an abort kills it. */
  async runTask(name: string, release: Release, onLine: (stream: 'stdout' | 'stderr', line: string) => void, signal: AbortSignal, extra: TaskExtras = {}): Promise<RunResult> {
    const command = release.manifest.tasks[name];
    if (!command) {
      const known = Object.keys(release.manifest.tasks);
      throw new SlipwayError('SLIPWAY_ERR_TASK_NOT_FOUND', `release ${this.d.app} ${release.version} has no task "${name}"${known.length ? `; its tasks: ${known.join(', ')}` : ' (its manifest has no tasks)'}`);
    }
    const { env: base, user } = await this.context(release);
    const env = {
      ...base,
      SLIPWAY_APP: this.d.app, SLIPWAY_VERSION: release.version, SLIPWAY_RELEASE_DIR: release.dir, SLIPWAY_TASK: name,
      ...(extra.pid ? { SLIPWAY_PID: String(extra.pid) } : {}),
    };
    const argv = [...command, ...(extra.args ?? [])];
    const log = new AppLog(this.d.paths.logs, this.d.logLimits.bytes, this.d.logLimits.files);
    log.note(`task ${name} in ${release.version}: ${argv.join(' ')}`);
    try {
      const r = await runCommand(argv, { cwd: release.dir, env, timeoutMs: 0, log, user, onLine, signal, stdin: extra.stdin });
      log.note(`task ${name} ${r.code === null ? 'was killed' : `exited with code ${r.code}`}`);
      return r;
    } finally {
      log.close();
    }
  }

  /** The live processes, as state.json records them. */
  records(): ProcessRecord[] {
    return [...this.live].filter((p) => p.running()).map((p) => {
      const drain = this.drains.get(p);
      const id = this.idOf(p);
      return {
        version: id.version, sha256: id.sha256, pid: p.pid, start_ticks: p.startTicks, started_at: p.startedAt.toISOString(),
        ...(id.sha256 !== p.sha256 ? { started_as: { version: p.version, sha256: p.sha256 } } : {}),
        ...(drain ? { stop_sent_at: new Date(drain.sentAt).toISOString(), drain_deadline: new Date(drain.deadline).toISOString() } : {}),
      };
    });
  }
}

