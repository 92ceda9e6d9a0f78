// The agent's ProcessRunner: every request goes to the supervising process,
// which outlives the agent. Each supervised process is mirrored here by a
// RemoteProcess whose promises settle on the supervisor's events. When the
// supervisor itself dies, its apps are ended here (checked by start time) and
// reported as exited, so the runtime restarts them under a new supervisor.
import { SlipwayError } from '../../../common/errors.js';
import { ensureSupervisor, type SupervisorClient } from '../supervisor/client.js';
import { endRecordedProcess } from './proc.js';
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

  constructor(info: ProcessInfo, private readonly client: SupervisorClient) {
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

  markExited(e: ExitInfo, output: string[]): void {
    if (this.exitInfo) return;
    this.exitInfo = e;
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
    try {
      await this.client.request<ExitInfo>({ op: 'stop', args: { pid: this.pid, signal, timeout_ms: timeoutMs } }, timeoutMs + 15_000);
    } catch {
      // The supervisor is gone: the lost handler ends the process and settles `exited`.
    }
    return this.exited;
  }
}

export class SupervisedRunner implements ProcessRunner {
  private client?: SupervisorClient;
  private connecting?: Promise<SupervisorClient>;
  private readonly procs = new Map<number, RemoteProcess>();

  constructor(private readonly stateDir: string, private readonly agentVersion: string, private readonly log: Logger, private readonly runtimeDir?: string) {}

  /** The supervisor's connection, starting a supervisor if none runs. */
  connect(): Promise<SupervisorClient> {
    if (this.client?.alive) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const { client, started } = await ensureSupervisor(this.stateDir, this.agentVersion, this.runtimeDir);
      this.log.info({ supervisor_pid: client.hello.pid, supervisor_version: client.hello.version, protocol: client.hello.protocol },
        started ? 'started the supervising process' : 'attached to the running supervising process');
      client.on('event', (ev) => this.onEvent(client, ev));
      client.on('lost', () => void this.onLost());
      this.client = client;
      return client;
    })().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  get supervisorPid(): number | undefined {
    return this.client?.alive ? this.client.hello.pid : undefined;
  }

  private onEvent(client: SupervisorClient, ev: SupervisorEvent): void {
    const p = this.procs.get(ev.pid);
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

  /** The supervisor died: end what it ran (it can no longer), then report each as exited. */
  private async onLost(): Promise<void> {
    this.log.error({ apps: [...new Set([...this.procs.values()].map((p) => p.pid))].length }, 'the supervising process is gone; ending its apps so they can be started again');
    const lost = [...this.procs.values()];
    this.procs.clear();
    await Promise.all(lost.map(async (p) => {
      await endRecordedProcess(p.pid, p.startTicks, 'SIGTERM', 5_000);
      p.markExited({ code: null, signal: null, requested: false }, ['(the supervising process died; the app was ended so it can be started again)']);
    }));
  }

  async start(spec: StartArgs): Promise<AppProcess> {
    const client = await this.connect();
    let info: ProcessInfo;
    try {
      info = await client.request<ProcessInfo>({ op: 'start', args: spec });
    } catch (err) {
      throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', (err as Error).message);
    }
    return this.mirror(info, client);
  }

  private mirror(info: ProcessInfo, client: SupervisorClient): RemoteProcess {
    const existing = this.procs.get(info.pid);
    if (existing) return existing;
    const p = new RemoteProcess(info, client);
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
