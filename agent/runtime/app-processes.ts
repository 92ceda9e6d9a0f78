// The processes of one app, as the runtime's state machine uses them: start
// a release (with the app's environment and sockets), wait until it is ready,
// stop it (drain, then SIGKILL), run an upgrade command in it, and know which
// are still alive for state.json.
import { AppLog } from './process/app-log.js';
import { runCommand, type RunResult } from './process/run-command.js';
import { SlipwayError } from '../../common/errors.js';
import { appEnvironment, type AppUser } from './app-env.js';
import { waitReady, type ReadyOptions } from './readiness.js';
import type { AppPaths } from '../paths.js';
import type { AppProcess, ProcessRunner } from './process/runner.js';
import type { ProcessRecord } from './state.js';
import type { Release } from '../storage/releases.js';

export interface AppProcessesDeps {
  app: string;
  paths: AppPaths;
  runner: ProcessRunner;
  appBind?: string;
  logLimits: { bytes: number; files: number };
  user?: AppUser;
  /** Called when the set of live processes changed (state.json records them). */
  changed: () => Promise<void>;
  /** How readiness is waited for (readiness.ts's waitReady: notify, uptime, command, http and tcp checks). */
  readiness?: ReadinessProbe;
}

/** Resolves once the process is ready; rejects (NotReadyError) when it is not, or on the abort. */
export type ReadinessProbe = (o: ReadyOptions) => Promise<unknown>;

export class AppProcesses {
  private readonly live = new Set<AppProcess>();
  /** Old versions draining after a swap or a stop. */
  readonly draining = new Set<AppProcess>();

  constructor(private readonly d: AppProcessesDeps) {}

  /** The environment of a release's processes (agent/runtime/app-env.ts). */
  private env(release: Release): Promise<Record<string, string>> {
    return appEnvironment(release.manifest.run.env, this.d.paths.sharedEnv, this.d.user);
  }

  async start(release: Release): Promise<AppProcess> {
    const run = release.manifest.run;
    const proc = await this.d.runner.start({
      app: this.d.app, version: release.version, sha256: release.sha256, releaseDir: release.dir, command: run.command,
      env: await this.env(release),
      sockets: run.listen.map((l) => ({ name: l.name, host: this.d.appBind ?? l.host, port: l.port })),
      logDir: this.d.paths.logs, logBytes: this.d.logLimits.bytes, logFiles: this.d.logLimits.files,
      uid: this.d.user?.uid, gid: this.d.user?.gid,
    });
    this.track(proc);
    await this.d.changed();
    return proc;
  }

  /** Counts a process as this app's (one started here, or found after an agent restart). */
  track(proc: AppProcess): void {
    this.live.add(proc);
    void proc.exited.then(() => this.live.delete(proc));
  }

  /** Waits until the process is ready; an abort ends the wait with a NotReadyError. */
  async waitReady(proc: AppProcess, release: Release, signal?: AbortSignal): Promise<void> {
    const run = release.manifest.run;
    await (this.d.readiness ?? waitReady)({ run, proc, releaseDir: release.dir, env: await this.env(release), signal });
  }

  /** The release's stop signal, then SIGKILL of its group at stop.drain_timeout_s. */
  async stop(proc: AppProcess, release: Release): Promise<void> {
    const stop = release.manifest.run.stop;
    this.draining.add(proc);
    try {
      await proc.stop(stop.signal, stop.drain_timeout_s * 1000);
    } finally {
      this.draining.delete(proc);
      await this.d.changed();
    }
  }

  /** A version two swaps old that still drains is killed at once. */
  async killDraining(): Promise<void> {
    await Promise.all([...this.draining].map((p) => p.stop('SIGKILL', 0)));
  }

  /** Runs an upgrade command in a release's directory (the `command` strategy); an abort kills it. */
  async runInRelease(argv: string[], release: Release, pid: number, next: Release, signal?: AbortSignal): Promise<{ code: number | null; output: string[] }> {
    const env = {
      ...(await this.env(release)),
      SLIPWAY_APP: this.d.app, SLIPWAY_PID: String(pid), SLIPWAY_VERSION: next.version, SLIPWAY_RELEASE_DIR: next.dir,
    };
    const timeoutMs = (next.manifest.run.health?.timeout_s ?? 60) * 1000;
    const log = new AppLog(this.d.paths.logs, this.d.logLimits.bytes, this.d.logLimits.files);
    log.note(`upgrade command in ${release.version}: ${argv.join(' ')}`);
    try {
      return await runCommand(argv, { cwd: release.dir, env, timeoutMs, log, user: this.d.user, signal });
    } finally {
      log.close();
    }
  }

  /** Runs a manifest task in a release's directory with the app's environment; no deadline, an abort kills it. */
  async runTask(name: string, release: Release, onLine: (stream: 'stdout' | 'stderr', line: string) => void, signal: AbortSignal): Promise<RunResult> {
    const argv = release.manifest.tasks[name];
    if (!argv) {
      const known = Object.keys(release.manifest.tasks);
      throw new SlipwayError('SLIPWAY_ERR_TASK_NOT_FOUND', `release ${this.d.app} ${release.version} has no task "${name}"${known.length ? `; its tasks: ${known.join(', ')}` : ' (its manifest has no tasks)'}`);
    }
    const env = {
      ...(await this.env(release)),
      SLIPWAY_APP: this.d.app, SLIPWAY_VERSION: release.version, SLIPWAY_RELEASE_DIR: release.dir, SLIPWAY_TASK: name,
    };
    const log = new AppLog(this.d.paths.logs, this.d.logLimits.bytes, this.d.logLimits.files);
    log.note(`task ${name} in ${release.version}: ${argv.join(' ')}`);
    try {
      const r = await runCommand(argv, { cwd: release.dir, env, timeoutMs: 0, log, user: this.d.user, onLine, signal });
      log.note(`task ${name} ${r.code === null ? 'was killed' : `exited with code ${r.code}`}`);
      return r;
    } finally {
      log.close();
    }
  }

  /** The live processes, as state.json records them. */
  records(): ProcessRecord[] {
    return [...this.live].filter((p) => p.running()).map((p) => ({
      version: p.version, sha256: p.sha256, pid: p.pid, start_ticks: p.startTicks, started_at: p.startedAt.toISOString(),
    }));
  }
}

