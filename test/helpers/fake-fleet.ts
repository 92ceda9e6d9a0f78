// An in-memory fleet for the executor's unit tests: each fake host keeps
// what an agent keeps for one app (the releases present, the activation
// stack, what runs) and answers Activate, Control, Status, ListReleases and
// uploads the way an agent does, without a network. Tests script failures
// (a version that will not start on a host, an unreachable host) and read
// back what happened: the order of calls and how many ran at once.
import { HostError } from '../../coordinator/call.js';
import type { AgentEvent } from '../../coordinator/rollout/events.js';
import type { ActivateArgs, AppView } from '../../coordinator/rollout/executor.js';
import type { DeployLink } from '../../coordinator/rollout/deploy.js';
import type { UploadMetaInput } from '../../coordinator/upload.js';
import type { ReleaseRef } from '../../coordinator/plans.js';

export const rel = (version: string): ReleaseRef => ({ version, sha256: version.replace(/\D/g, '').padEnd(64, '0') });

/** Lets other hosts' calls run before this one goes on (several turns of the event loop). */
const yieldTurns = async (n = 3) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

export class FakeHost implements DeployLink {
  /** Releases present (stored). */
  present: ReleaseRef[] = [];
  /** The activation stack, oldest first; its top is what runs. */
  stack: ReleaseRef[] = [];
  pid = 0;
  running = true;
  /** Versions whose start fails on this host (the old one keeps serving). */
  readonly failsToStart = new Set<string>();
  /** Every call fails as if the host could not be reached. */
  unreachable = false;

  constructor(readonly host: string, private readonly fleet: FakeFleet, startWith: ReleaseRef[] = []) {
    this.present = [...startWith];
    this.stack = [...startWith];
    if (startWith.length > 0) this.pid = fleet.nextPid();
  }

  get current(): ReleaseRef | undefined {
    return this.stack.at(-1);
  }

  /**
   * A partition (outcome unknown): 'before' — the next Activate never reaches the host; 'after' — the host
   * finishes the next Activate but its answer is lost. Either way the call fails as a silent connection does
   * (a deadline: the request may have got there), and the host answers no call until heal().
   */
  cut?: 'before' | 'after';
  /** Cut off: every call fails with a deadline. */
  silent = false;

  heal(): void {
    this.silent = false;
  }

  private check(): void {
    if (this.unreachable) {
      const e = new HostError(this.host, 'unreachable: connection refused', true);
      e.neverSent = true;
      throw e;
    }
    if (this.silent) throw new HostError(this.host, 'unreachable: no answer before the deadline', true);
  }

  private async busy<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.check();
    this.fleet.log.push(`${this.host} ${what}`);
    this.fleet.inFlight++;
    this.fleet.maxInFlight = Math.max(this.fleet.maxInFlight, this.fleet.inFlight);
    try {
      await yieldTurns();
      return await fn();
    } finally {
      this.fleet.inFlight--;
    }
  }

  private event(event: string, message: string, output: string[] = []): AgentEvent {
    return { event, at: new Date(0).toISOString(), message, elapsed_s: 0, pid: this.pid, output };
  }

  activate(req: ActivateArgs, onEvent: (e: AgentEvent) => void): Promise<AgentEvent | undefined> {
    if (this.cut) {
      const how = this.cut;
      this.cut = undefined;
      this.silent = true;
      if (how === 'after') {
        this.fleet.log.push(`${this.host} activate ${req.version} (${req.reason}; its answer lost)`);
        this.switchTo(req);
      }
      return Promise.reject(new HostError(this.host, 'unreachable: no answer before the deadline', true));
    }
    return this.busy(`activate ${req.version}${req.undo ? ' undo' : ''} (${req.reason})`, () => {
      const to = this.present.find((r) => r.sha256 === req.sha256);
      if (!to) {
        const e = this.event('failed', `${req.version} is not on this host`);
        onEvent(e);
        return e;
      }
      if (this.failsToStart.has(req.version)) {
        onEvent(this.event('starting', `${req.version} starting`));
        const e = this.event('failed', `${req.version} exited during start; the old version keeps serving`, ['boom']);
        onEvent(e);
        return e;
      }
      onEvent(this.event('starting', `${req.version} starting`));
      onEvent(this.event('ready', 'ready'));
      this.switchTo(req);
      const done = this.event('done', `${req.version} is live`);
      onEvent(done);
      return done;
    });
  }

  /** As the agent's state does: a push adds the release, an undo replaces the top two with it. */
  private switchTo(req: ActivateArgs): void {
    const to = this.present.find((r) => r.sha256 === req.sha256);
    if (!to) return;
    this.pid = this.fleet.nextPid();
    this.stack = req.undo ? [...this.stack.slice(0, -2), to] : [...this.stack, to];
    this.running = true;
  }

  control(_app: string, action: string, _by: string, onEvent: (e: AgentEvent) => void): Promise<AgentEvent | undefined> {
    return this.busy(action, () => {
      if (action !== 'stop' && this.current && this.failsToStart.has(this.current.version)) {
        const e = this.event('failed', `${this.current.version} exited during start`, ['boom']);
        onEvent(e);
        return e;
      }
      if (action !== 'stop') this.pid = this.fleet.nextPid();
      this.running = action !== 'stop';
      const e = this.event('done', `${action} done`);
      onEvent(e);
      return e;
    });
  }

  async status(app = ''): Promise<{ apps: AppView[] }> {
    this.check();
    const c = this.current;
    if (!c || (app && app !== this.fleet.app)) return { apps: [] };
    return {
      apps: [{
        app: this.fleet.app, state: this.running ? 'running' : 'stopped', version: c.version, pid: this.running ? this.pid : 0,
        desired_version: c.version, desired_sha256: c.sha256, stack: [...this.stack],
      }],
    };
  }

  async listReleases(): Promise<{ version: string; sha256: string; stored: boolean; unpacked: boolean }[]> {
    this.check();
    return this.present.map((r) => ({ ...r, stored: true, unpacked: false }));
  }

  upload(_file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void) {
    return this.busy(`upload ${meta.version}`, () => {
      onBytes?.(meta.size);
      this.present.push({ version: meta.version, sha256: meta.sha256 });
      return { sha256: meta.sha256, bytes_received: String(meta.size), already_stored: false, channel: 'data-port' as const };
    });
  }

  async explain(err: unknown): Promise<HostError> {
    return err instanceof HostError ? err : new HostError(this.host, (err as Error).message, false);
  }
}

/** Hosts h1…hN, each running `startWith` (its last entry on top). */
export class FakeFleet {
  readonly app = 'hello';
  readonly connections: FakeHost[];
  /** Calls in the order they began: "h1 activate 1.1.0 (deploy)". */
  readonly log: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private pids = 1000;

  constructor(n: number, readonly concurrency = 8, startWith: ReleaseRef[] = [rel('1.0.0')]) {
    this.connections = Array.from({ length: n }, (_, i) => new FakeHost(`h${i + 1}`, this, startWith));
  }

  get hosts(): string[] {
    return this.connections.map((c) => c.host);
  }

  host(name: string): FakeHost {
    const h = this.connections.find((c) => c.host === name);
    if (!h) throw new Error(`no fake host ${name}`);
    return h;
  }

  nextPid(): number {
    return ++this.pids;
  }

  /** What each host runs, in host order. */
  versions(): (string | undefined)[] {
    return this.connections.map((c) => c.current?.version);
  }
}
