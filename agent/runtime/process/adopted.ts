// An app process started by a supervising process that has died, adopted by
// its successor. It is not our child (the kernel gave it to init or a
// subreaper), so nothing tells us when it exits: its pipes closing (the read
// ends came from the holder) and a poll of /proc/<pid>/stat (pid and start
// time) do. Its exit status is known only when the poll sees it as a zombie
// before its new parent reaps it; otherwise the exit is reported with
// `unknown: true`. Output and readiness keep flowing through the same pipes:
// what the app wrote meanwhile waited in the pipe's buffer.
import net from 'node:net';
import type { Readable } from 'node:stream';
import { LineTail, type AppLog } from './app-log.js';
import { isSameProcess, signalOwnGroup, zombieExitStatus } from './proc.js';
import { describeExit, watchReady, type ExitInfo, type SupervisedProcess } from './runner.js';
import type { HeldProcess, PipeName, RawHandle } from '../supervisor/handover.js';
import type { SocketSpec } from '../supervisor/protocol.js';

export const ADOPTED_POLL_MS = 200;

export class AdoptedProcess implements SupervisedProcess {
  readonly app: string;
  readonly pid: number;
  readonly version: string;
  readonly sha256: string;
  readonly startedAt: Date;
  readonly startTicks: number;
  readonly sockets: SocketSpec[];
  readonly exited: Promise<ExitInfo>;
  readonly notifiedReady: Promise<void>;
  private readonly tail = new LineTail();
  private readonly streams = new Map<PipeName, net.Socket>();
  private readonly poll: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private alive = true;
  private requested = false;
  private resolveExit!: (e: ExitInfo) => void;

  constructor(rec: HeldProcess, private readonly pipes: Map<PipeName, RawHandle>, private readonly log: AppLog, pollMs = ADOPTED_POLL_MS) {
    this.app = rec.app;
    this.pid = rec.pid;
    this.version = rec.version;
    this.sha256 = rec.sha256;
    this.startedAt = new Date(rec.started_at);
    this.startTicks = rec.start_ticks;
    this.sockets = rec.sockets;
    this.exited = new Promise((r) => { this.resolveExit = r; });
    for (const [name, handle] of pipes) {
      // net.Socket takes an existing libuv handle (how Node's own IPC hands sockets over); the option is not in the public types.
      const s = new net.Socket({ handle, readable: true, writable: false } as net.SocketConstructorOpts);
      s.on('error', () => { /* the app closed it */ });
      s.on('close', () => this.check());
      this.streams.set(name, s);
    }
    for (const name of ['stdout', 'stderr'] as const) {
      this.streams.get(name)?.on('data', (d: Buffer) => {
        log.write(d);
        this.tail.push(d);
      });
    }
    this.notifiedReady = rec.ready ? Promise.resolve() : watchReady(this.streams.get('notify') as Readable | undefined);
    if (rec.stopping) {
      this.requested = true;
      this.killAt(rec.stopping.deadline_ms - Date.now());
    }
    this.poll = setInterval(() => this.check(), pollMs);
    this.check();
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

  pipeHandles(): [PipeName, RawHandle][] {
    return this.alive ? [...this.pipes] : [];
  }

  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    if (!this.alive) return this.exited;
    // A stop already under way (begun by the predecessor) keeps its own deadline.
    if (!this.requested) {
      this.requested = true;
      signalOwnGroup(this.pid, this.startTicks, signal);
      this.killAt(timeoutMs);
    }
    const info = await this.exited;
    signalOwnGroup(this.pid, this.startTicks, 'SIGKILL');
    return info;
  }

  private killAt(ms: number): void {
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => signalOwnGroup(this.pid, this.startTicks, 'SIGKILL'), Math.max(0, ms));
  }

  /** Gone (or a zombie, whose status we then read)? Then report the exit once the pipes have given their last bytes. */
  private check(): void {
    if (!this.alive) return;
    const zombie = zombieExitStatus(this.pid, this.startTicks);
    if (!zombie && isSameProcess(this.pid, this.startTicks)) return;
    this.alive = false;
    clearInterval(this.poll);
    clearTimeout(this.killTimer);
    const info: ExitInfo = zombie ? { ...zombie, requested: this.requested } : { code: null, signal: null, requested: this.requested, unknown: true };
    const drained = [...this.streams.values()].filter((s) => !s.destroyed).map((s) => new Promise((r) => s.once('close', r)));
    void Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 200))]).then(() => {
      for (const s of this.streams.values()) s.destroy();
      this.log.note(`${this.app} ${this.version} pid ${this.pid} ${describeExit(info)}${this.requested ? ' (stopped by the agent)' : ''}`);
      this.resolveExit(info);
    });
  }
}
