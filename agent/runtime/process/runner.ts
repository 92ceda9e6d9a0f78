// Everything that starts, signals and watches an app's processes sits behind
// ProcessRunner. The agent's runner (supervised-runner.ts) asks the
// supervising process, which outlives the agent; inside that process,
// LocalRunner does the work: each app version a child in its own session and
// process group, its output to the app's log.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { AppLog, LineTail } from './app-log.js';
import { processStartTicks, signalGroup, signalOwnGroup } from './proc.js';
import type { BoundSocket } from '../sockets.js';
import type { SocketSpec, StartArgs } from '../supervisor/protocol.js';
import type { PipeName, RawHandle } from '../supervisor/handover.js';

/** What LocalRunner needs: the start request, with the sockets already bound and the log already open. */
export type LocalStartSpec = Omit<StartArgs, 'sockets' | 'logDir' | 'logBytes' | 'logFiles'> & {
  sockets: BoundSocket[];
  log: AppLog;
};

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether the agent asked for it (stop, drain). */
  requested: boolean;
  /** No status could be read: the process was adopted (not a child) and reaped by its new parent first. */
  unknown?: boolean;
}

export interface AppProcess {
  readonly pid: number;
  readonly version: string;
  readonly sha256: string;
  readonly startedAt: Date;
  readonly startTicks: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Resolves when the process writes READY=1 to NOTIFY_FD; never rejects. */
  readonly notifiedReady: Promise<void>;
  /** The sockets it inherited, with the addresses they are bound to. */
  readonly sockets: SocketSpec[];
  running(): boolean;
  lastOutput(n: number): Promise<string[]>;
  /** The stop signal to the process group; SIGKILL at the deadline. Resolves once it has exited. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo>;
}

/** How the agent's runtime runs apps. */
export interface ProcessRunner {
  start(spec: StartArgs): Promise<AppProcess>;
  /** The processes still supervised for an app (after an agent restart): running ones, and exits the agent has not seen. */
  attach(app: string): Promise<AppProcess[]>;
}

/** What the supervising process runs: an AppProcess, with its output tail and its pipes' read ends for the holder. */
export interface SupervisedProcess extends AppProcess {
  lastLines(n: number): string[];
  pipeHandles(): [PipeName, RawHandle][];
}

export function describeExit(e: ExitInfo): string {
  if (e.unknown) return 'exited (status unknown: it was adopted from a supervising process that died, and reaped by its new parent)';
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

/** Resolves when a line READY=1 arrives on the notify pipe; never rejects. */
export function watchReady(notify: Readable | null | undefined): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    notify?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (/(^|\n)READY=1(\n|$)/.test(buf)) resolve();
      if (buf.length > 4096) buf = buf.slice(-64);
    });
    notify?.on('error', () => { /* the app closed it */ });
  });
}

/** The libuv handle under a stream Node made for a child's pipe (not public API: used to hand the pipe to the holder). */
export function rawHandleOf(stream: Readable | null | undefined): RawHandle | undefined {
  const h = (stream as unknown as { _handle?: RawHandle | null } | null | undefined)?._handle;
  return h && h.fd >= 0 ? h : undefined;
}

export class LocalRunner {
  async start(spec: LocalStartSpec): Promise<LocalProcess> {
    const n = spec.sockets.length;
    const notifyFd = 3 + n;
    const env: Record<string, string> = {
      ...spec.env,
      SLIPWAY_APP: spec.app,
      SLIPWAY_VERSION: spec.version,
      SLIPWAY_RELEASE_DIR: spec.releaseDir,
      NOTIFY_FD: String(notifyFd),
    };
    if (n > 0) {
      env.LISTEN_FDS = String(n);
      env.LISTEN_FDNAMES = spec.sockets.map((s) => s.name).join(':');
    }
    // LISTEN_PID must be the app's own pid, which spawn cannot know: the shell
    // sets it to its own pid and then execs the app, which keeps that pid.
    const [program, ...args] = spec.command;
    const child = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', program, ...args], {
      cwd: spec.releaseDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...spec.sockets.map((s) => s.fd), 'pipe'],
      uid: spec.uid,
      gid: spec.gid,
    });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    if (spawned || child.pid === undefined) {
      throw new Error(`could not start ${spec.command.join(' ')}: ${spawned?.message ?? 'no pid'}`);
    }
    return new LocalProcess(child, spec, notifyFd);
  }
}

export class LocalProcess implements SupervisedProcess {
  readonly pid: number;
  readonly version: string;
  readonly sha256: string;
  readonly startedAt = new Date();
  readonly startTicks: number;
  readonly exited: Promise<ExitInfo>;
  readonly notifiedReady: Promise<void>;
  readonly sockets: SocketSpec[];
  private readonly tail = new LineTail();
  private readonly notify: Readable | null;
  private alive = true;
  private requested = false;

  constructor(private readonly child: ChildProcess, spec: LocalStartSpec, notifyFd: number) {
    this.pid = child.pid as number;
    this.sockets = spec.sockets.map((s) => ({ name: s.name, host: s.host, port: s.port }));
    this.version = spec.version;
    this.sha256 = spec.sha256;
    this.startTicks = processStartTicks(this.pid) ?? 0;
    const log = spec.log;
    log.note(`started ${spec.app} ${spec.version} pid ${this.pid}: ${spec.command.join(' ')}`);
    for (const s of [child.stdout, child.stderr]) {
      s?.on('data', (d: Buffer) => {
        log.write(d);
        this.tail.push(d);
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', async (code, signal) => {
        // Let the last output arrive (stdio closes just after exit), but do
        // not wait for a grandchild that still holds the pipes.
        await Promise.race([new Promise((r) => child.once('close', r)), new Promise((r) => setTimeout(r, 200))]);
        this.alive = false;
        const info: ExitInfo = { code, signal, requested: this.requested };
        log.note(`${spec.app} ${spec.version} pid ${this.pid} ${describeExit(info)}${this.requested ? ' (stopped by the agent)' : ''}`);
        resolve(info);
      });
    });
    this.notify = child.stdio[notifyFd] as Readable | null;
    this.notifiedReady = watchReady(this.notify);
  }

  pipeHandles(): [PipeName, RawHandle][] {
    const out: [PipeName, RawHandle][] = [];
    for (const [name, stream] of [['stdout', this.child.stdout], ['stderr', this.child.stderr], ['notify', this.notify]] as const) {
      const h = rawHandleOf(stream);
      if (h) out.push([name, h]);
    }
    return out;
  }

  running(): boolean {
    return this.alive;
  }

  lastLines(n: number): string[] {
    return this.tail.last(n);
  }

  async lastOutput(n: number): Promise<string[]> {
    return this.tail.last(n);
  }

  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    if (!this.alive) return this.exited;
    this.requested = true;
    signalGroup(this.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signalOwnGroup(this.pid, this.startTicks, 'SIGKILL');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    const info = await this.exited;
    // Whatever the app left in its group goes with it (the app itself is reaped: its number may be another process's now).
    signalOwnGroup(this.pid, this.startTicks, 'SIGKILL');
    return info;
  }
}
