// The agent's ProcessRunner: every request goes to the supervising process,
// which outlives the agent. Each supervised process is mirrored here by a
// RemoteProcess whose promises settle on the supervisor's events. When the
// supervisor itself dies, its holder starts a successor that adopts the
// running apps (protocol 2): the mirrors move to the new connection, a stop
// under way is asked again, and nothing else changes. A process the successor
// does not know (a protocol-1 supervisor, or its holder died too) is ended
// here (checked by start time) and reported as exited, so the runtime starts
// the app again.
import { SlipwayError } from '../../../common/errors.js';
import { ensureSupervisor, supervisorCommand, type SupervisorClient } from '../supervisor/client.js';
import { ADOPTING_PROTOCOL, REPLACING_PROTOCOL, socketPathFor } from '../supervisor/protocol.js';
import { endRecordedProcess } from './proc.js';
import { testPause } from '../../upgrade/test-pause.js';
import type { AppProcess, ExitInfo, ProcessRunner } from './runner.js';
import type { ProcessInfo, SocketSpec, StartArgs, SupervisorEvent } from '../supervisor/protocol.js';
import type { Logger } from '../../logger.js';

class RemoteProcess implements AppProcess {
  readonly pid: number;
  readonly version: string;
  readonly sha256: string;
  readonly startedAt: Date;
  readonly startTicks: number;
  readonly sockets: SocketSpec[];
  readonly exited: Promise<ExitInfo>;
  readonly notifiedReady: Promise<void>;
  private exitInfo?: ExitInfo;
  private output: string[] = [];
  private resolveExit!: (e: ExitInfo) => void;
  resolveReady!: () => void;
  /** The agent asked it to stop (an exit then counts as requested, whoever reports it). */
  stopRequested = false;

  /** channel: the current supervisor connection, reconnecting after a supervisor's death. */
  constructor(info: ProcessInfo, private client: SupervisorClient, private readonly channel: () => Promise<SupervisorClient>) {
    this.pid = info.pid;
    this.version = info.version;
    this.sha256 = info.sha256;
    this.startedAt = new Date(info.started_at);
    this.startTicks = info.start_ticks;
    this.sockets = info.sockets;
    this.exited = new Promise((r) => { this.resolveExit = r; });
    this.notifiedReady = new Promise((r) => { this.resolveReady = r; });
    if (info.ready) this.resolveReady();
    if (info.exit) this.markExited({ ...info.exit, signal: info.exit.signal as NodeJS.Signals | null }, []);
  }

  /** The successor supervising process adopted it. */
  rebind(client: SupervisorClient): void {
    this.client = client;
  }

  markExited(e: ExitInfo, output: string[]): void {
    if (this.exitInfo) return;
    // A stop asked of a supervisor that died before it could tell its holder is still a requested stop.
    this.exitInfo = { ...e, requested: e.requested || this.stopRequested };
    e = this.exitInfo;
    this.output = output;
    this.resolveExit(e);
  }

  running(): boolean {
    return !this.exitInfo;
  }

  async lastOutput(n: number): Promise<string[]> {
    if (this.exitInfo || !this.client.alive) return this.output.slice(-n);
    return this.client.request<string[]>({ op: 'tail', args: { pid: this.pid, lines: n } }).catch(() => this.output.slice(-n));
  }

  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.stopRequested = true;
    const deadline = Date.now() + timeoutMs;
    // A supervisor that dies meanwhile: its successor (which continues a stop it was told of) is asked once more.
    for (let attempt = 0; attempt < 2 && !this.exitInfo; attempt++) {
      try {
        const client = attempt === 0 ? this.client : await this.channel();
        await client.request<ExitInfo>({ op: 'stop', args: { pid: this.pid, signal, timeout_ms: Math.max(0, deadline - Date.now()) } }, timeoutMs + 15_000);
        break;
      } catch {
        // Gone, or not known to the successor: the lost handler ends the process and settles `exited`.
      }
    }
    return this.exited;
  }
}

export class SupervisedRunner implements ProcessRunner {
  private client?: SupervisorClient;
  private connecting?: Promise<SupervisorClient>;
  private readonly procs = new Map<number, RemoteProcess>();
  /**
   * Events for a pid not mirrored yet: a process that says READY=1 (or exits) at once can be
   * reported before the answer to its start arrives (the supervising process queues the event
   * first). Kept until that answer makes the mirror; bounded.
   */
  private readonly early = new Map<number, SupervisorEvent[]>();
  /** Start requests awaiting their answer: only then is an event for an unknown pid kept. */
  private starting = 0;

  constructor(private readonly stateDir: string, private readonly agentVersion: string, private readonly log: Logger, private readonly runtimeDir?: string) {}

  /** The supervisor's connection, starting a supervisor if none runs. */
  connect(): Promise<SupervisorClient> {
    if (this.client?.alive) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const { client, started } = await ensureSupervisor(this.stateDir, this.agentVersion, this.runtimeDir);
      this.log.info({ supervisor_pid: client.hello.pid, supervisor_version: client.hello.version, protocol: client.hello.protocol },
        started ? 'started the supervising process' : 'attached to the running supervising process');
      client.on('event', (ev) => this.onEvent(client, ev));
      client.on('lost', () => void this.onLost(client));
      this.client = client;
      return client;
    })().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  get supervisorPid(): number | undefined {
    return this.client?.alive ? this.client.hello.pid : undefined;
  }

  /**
   * After an agent upgrade: a supervising process of another build is
   * replaced by one of this build (protocol 3's `replace`: its holder starts
   * the successor, which adopts the apps: same pids, same sockets). What was
   * done, for the log and the history.
   */
  async upgradeSupervisor(): Promise<string> {
    const client = await this.connect();
    const { version, protocol, pid } = client.hello;
    if (version === this.agentVersion) return `the supervising process (pid ${pid}) is ${version} already`;
    if (protocol < REPLACING_PROTOCOL) return `the supervising process (pid ${pid}, ${version}) speaks protocol ${protocol}, which cannot replace itself; it is replaced by this build when its process group ends`;
    await client.request({ op: 'replace', args: { argv: supervisorCommand(socketPathFor(this.stateDir, this.runtimeDir)) } });
    await testPause('supervisor');
    // The successor (the holder starts it when this one is gone) adopts the apps; the runner moves to it (onLost).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const next = this.client;
      if (!next || next === client || !next.alive) continue;
      if (next.hello.version !== this.agentVersion) {
        throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `the supervising process of ${this.agentVersion} did not come up; its holder started one of ${next.hello.version} again (pid ${next.hello.pid}), which adopted the apps`);
      }
      return `the supervising process ${version} (pid ${pid}) handed over to one of ${this.agentVersion} (pid ${next.hello.pid}), which adopted the apps`;
    }
    throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `the supervising process ${version} (pid ${pid}) was asked to hand over to one of ${this.agentVersion}, and no successor answered within 30 s`);
  }

  private onEvent(client: SupervisorClient, ev: SupervisorEvent): void {
    const p = this.procs.get(ev.pid);
    if (!p && this.starting > 0) {
      this.early.set(ev.pid, [...(this.early.get(ev.pid) ?? []), ev]);
      if (this.early.size > 256) this.early.delete(this.early.keys().next().value as number);
    }
    if (ev.event === 'ready') {
      p?.resolveReady();
      return;
    }
    if (p) {
      p.markExited({ ...ev.exit, signal: ev.exit.signal as NodeJS.Signals | null }, ev.output);
      this.procs.delete(ev.pid);
    }
    void client.request({ op: 'forget', args: { pid: ev.pid } }).catch(() => undefined);
  }

  /**
   * The supervisor died. A protocol-2 one has a successor that adopts its
   * processes: move each mirror to it. What no successor knows is ended
   * (it can no longer be watched) and reported as exited.
   */
  private async onLost(dead: SupervisorClient): Promise<void> {
    const adopting = dead.hello.protocol >= ADOPTING_PROTOCOL;
    this.log.warn({ supervisor_pid: dead.hello.pid, processes: this.procs.size },
      adopting ? 'the supervising process is gone; waiting for its successor to adopt the apps' : 'the supervising process is gone; ending its apps so they can be started again');
    let infos: ProcessInfo[] = [];
    let client: SupervisorClient | undefined;
    if (adopting) {
      try {
        client = await this.connect();
        infos = await client.request<ProcessInfo[]>({ op: 'list', args: {} });
      } catch (err) {
        this.log.error({ err }, 'no successor of the supervising process answered');
      }
    }
    const adopted: number[] = [];
    await Promise.all([...this.procs.values()].map(async (p) => {
      const info = infos.find((i) => i.pid === p.pid && i.start_ticks === p.startTicks);
      if (info && client) {
        p.rebind(client);
        adopted.push(p.pid);
        if (info.ready) p.resolveReady();
        if (info.exit) this.onEvent(client, { event: 'exit', app: info.app, pid: info.pid, exit: info.exit, output: [] });
        return;
      }
      this.procs.delete(p.pid);
      await endRecordedProcess(p.pid, p.startTicks, 'SIGTERM', 5_000);
      p.markExited({ code: null, signal: null, requested: p.stopRequested }, ['(the supervising process died and no successor adopted the app; it was ended so it can be started again)']);
    }));
    if (adopted.length) this.log.info({ supervisor_pid: client?.hello.pid, pids: adopted }, 'the new supervising process adopted the running apps');
  }

  async start(spec: StartArgs): Promise<AppProcess> {
    const client = await this.connect();
    this.starting++;
    try {
      let info: ProcessInfo;
      try {
        info = await client.request<ProcessInfo>({ op: 'start', args: spec });
      } catch (err) {
        throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', (err as Error).message);
      }
      return this.mirror(info, client);
    } finally {
      if (--this.starting === 0) this.early.clear();
    }
  }

  private mirror(info: ProcessInfo, client: SupervisorClient): RemoteProcess {
    const existing = this.procs.get(info.pid);
    if (existing) return existing;
    const p = new RemoteProcess(info, client, () => this.connect());
    for (const ev of this.early.get(info.pid) ?? []) {
      if (ev.event === 'ready') p.resolveReady();
      else p.markExited({ ...ev.exit, signal: ev.exit.signal as NodeJS.Signals | null }, ev.output);
    }
    this.early.delete(info.pid);
    if (p.running()) this.procs.set(info.pid, p);
    return p;
  }

  async attach(app: string): Promise<AppProcess[]> {
    const client = await this.connect();
    const infos = await client.request<ProcessInfo[]>({ op: 'list', args: { app } });
    const out = infos.map((i) => this.mirror(i, client));
    for (const i of infos) if (i.exit) void client.request({ op: 'forget', args: { pid: i.pid } }).catch(() => undefined);
    return out;
  }

  /** Closes the channel; the supervisor and the apps keep running. */
  close(): void {
    this.client?.removeAllListeners('lost');
    this.client?.close();
  }
}
