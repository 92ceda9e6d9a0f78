// An in-memory twin of the agent's ProcessRunner (agent/runtime/process/
// runner.ts): processes that start, become ready, crash and stop when the
// test says so, with no process of the OS behind them. Its readiness probe
// (AppProcesses' ReadinessProbe) waits for what the test decides, ends when
// the process exits, and honours an abort as readiness.ts does. Pids are
// above any kernel's pid_max, so nothing real is ever signalled.
import { NotReadyError } from '../../agent/runtime/readiness.js';
import { describeExit, type AppProcess, type ExitInfo, type ProcessRunner } from '../../agent/runtime/process/runner.js';
import type { ReadinessProbe } from '../../agent/runtime/app-processes.js';
import type { SocketSpec, StartArgs } from '../../agent/runtime/supervisor/protocol.js';

/** How a started process behaves: ready at once, waits for the test, exits before it is ready, or cannot start. */
export type Behaviour = 'ready' | 'wait' | 'crash' | 'fail-start';

let nextPid = 5_000_000;

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

export class FakeProcess implements AppProcess {
  readonly pid = nextPid++;
  readonly app: string;
  readonly version: string;
  readonly sha256: string;
  readonly startedAt: Date;
  readonly startTicks = 1;
  readonly sockets: SocketSpec[];
  readonly exited: Promise<ExitInfo>;
  readonly notifiedReady: Promise<void>;
  /** Signals the runtime sent it, in order. */
  readonly signals: string[] = [];
  readonly output: string[] = [];
  /** Settles when someone first waits for its readiness. */
  readonly readinessAsked: Promise<void>;
  private exit?: ExitInfo;
  private readonly exitDone = deferred<ExitInfo>();
  private readonly readyDone = deferred<void>();
  private readonly asked = deferred<void>();
  private readiness: { ok: true } | { ok: false; why: string } | undefined;
  private readonly waiters = new Set<() => void>();
  private stopHold?: Promise<void>;

  constructor(spec: StartArgs, now: number) {
    this.app = spec.app;
    this.version = spec.version;
    this.sha256 = spec.sha256;
    this.startedAt = new Date(now);
    this.sockets = spec.sockets;
    this.exited = this.exitDone.promise;
    this.notifiedReady = this.readyDone.promise;
    this.readinessAsked = this.asked.promise;
  }

  running(): boolean {
    return !this.exit;
  }

  async lastOutput(n: number): Promise<string[]> {
    return this.output.slice(-n);
  }

  async stop(signal: NodeJS.Signals, _timeoutMs: number): Promise<ExitInfo> {
    if (this.exit) return this.exit;
    this.signals.push(signal);
    if (this.stopHold && signal !== 'SIGKILL') await this.stopHold;
    this.finish({ code: null, signal, requested: true });
    return this.exited;
  }

  /** It writes READY=1 (and passes its checks). */
  ready(): void {
    this.readiness = { ok: true };
    this.readyDone.resolve();
    this.wake();
  }

  /** Its checks fail: the readiness wait ends with this reason while the process runs on. */
  failReady(why: string): void {
    this.readiness = { ok: false, why };
    this.wake();
  }

  /** It exits on its own. */
  crash(code = 1): void {
    this.output.push(`crashing with code ${code}`);
    this.finish({ code, signal: null, requested: false });
  }

  /** A stop waits until the returned function is called (a slow drain); SIGKILL does not wait. */
  holdStops(): () => void {
    const d = deferred<void>();
    this.stopHold = d.promise;
    return () => d.resolve();
  }

  /** The readiness probe: like readiness.ts's waitReady, with the evidence in the test's hands. */
  waitReady(signal?: AbortSignal): Promise<void> {
    this.asked.resolve();
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new NotReadyError(why, this.output.slice(-20)));
      /** Settles the wait if there is an outcome; true then. */
      const settle = (): boolean => {
        if (this.exit) fail(`the new version ${describeExit(this.exit)} before it was ready`);
        else if (signal?.aborted) fail('the wait for readiness was cancelled');
        else if (this.readiness?.ok) resolve();
        else if (this.readiness) fail(this.readiness.why);
        else return false;
        return true;
      };
      if (settle()) return;
      const wake = () => {
        if (!settle()) return;
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private finish(e: ExitInfo): void {
    if (this.exit) return;
    this.exit = e;
    this.exitDone.resolve(e);
    this.wake();
  }
}

export class FakeRunner implements ProcessRunner {
  /** Every process started, oldest first. */
  readonly started: FakeProcess[] = [];
  /** Start requests, as the runtime made them. */
  readonly specs: StartArgs[] = [];
  /** Behaviour by version (default: ready at once). */
  readonly behaviour = new Map<string, Behaviour>();
  private startWaiters: ((p: FakeProcess) => void)[] = [];

  constructor(private readonly now: () => number, carried: FakeProcess[] = []) {
    this.started.push(...carried);
  }

  async start(spec: StartArgs): Promise<AppProcess> {
    this.specs.push(spec);
    const b = this.behaviour.get(spec.version) ?? 'ready';
    if (b === 'fail-start') throw new Error(`cannot exec ${spec.command.join(' ')}`);
    const p = new FakeProcess(spec, this.now());
    this.started.push(p);
    if (b === 'ready') p.ready();
    if (b === 'crash') queueMicrotask(() => p.crash(3));
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const w of waiters) w(p);
    return p;
  }

  /** Processes of a supervisor that died: no longer reported; they end when the test says (crash). */
  private readonly orphaned = new Set<FakeProcess>();

  /** After an agent restart, the supervisor still runs (and reports) what it started. */
  async attach(app: string): Promise<AppProcess[]> {
    return this.started.filter((p) => p.app === app && p.running() && !this.orphaned.has(p));
  }

  /** The supervising process dies: a new one knows none of the processes started so far. */
  loseSupervisor(): void {
    for (const p of this.started) this.orphaned.add(p);
  }

  /** Settles with the next process started. */
  nextStart(): Promise<FakeProcess> {
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }

  /** Processes still running. */
  live(): FakeProcess[] {
    return this.started.filter((p) => p.running());
  }

  /** The readiness probe to give AppProcesses (RuntimeDeps.readiness). */
  readonly readiness: ReadinessProbe = (o) => (o.proc as FakeProcess).waitReady(o.signal);
}
