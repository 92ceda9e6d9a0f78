// The supervising process: one per agent, in its own session, separate from
// the agent so that restarting or upgrading the agent never touches the apps.
// It holds the apps' listening sockets, starts and signals their processes,
// writes their output to the log files, and reports exits and readiness. It
// decides nothing: the agent's runtime does (restart policy, activations).
// One process for all apps keeps memory low (an idle Node process costs about
// 40 MiB RSS). Its death is not the apps' death: everything it holds is also
// reported to its holder (holder-link.ts), and its successor adopts the
// running processes (adopt()).
import net from 'node:net';
import { LocalRunner, type SupervisedProcess, type ExitInfo } from '../process/runner.js';
import { AdoptedProcess } from '../process/adopted.js';
import { AppLog } from '../process/app-log.js';
import { SocketSet } from '../sockets.js';
import { HANDOVER_VERSION, type HandOverStore, type HeldProcess } from './handover.js';
import type { HolderLink } from './holder-link.js';
import { PROTOCOL, LineDecoder, encode, type Request, type ProcessInfo, type SupervisorEvent, type HelloResult, type StartArgs, type SocketSpec } from './protocol.js';

interface Tracked {
  app: string;
  proc: SupervisedProcess;
  sockets: SocketSpec[];
  ready: boolean;
  adopted: boolean;
  exit?: ExitInfo;
  output?: string[];
}

interface AppHold {
  sockets: SocketSet;
  log?: AppLog;
  logDir?: string;
}

const MAX_EXITED_PER_APP = 20;

export class SupervisorDaemon {
  private readonly apps = new Map<string, AppHold>();
  private readonly procs = new Map<number, Tracked>();
  private readonly clients = new Set<net.Socket>();
  private readonly runner = new LocalRunner();
  readonly startedAt = new Date().toISOString();
  private adoptedCount = 0;

  constructor(readonly version: string, private readonly log: (msg: string, fields?: object) => void, private readonly holder?: HolderLink) {}

  /** Takes over what a predecessor ran: its sockets, and each process still recorded (exited ones report their exit). */
  adopt(store: HandOverStore): void {
    for (const { app, spec, port, handle } of store.socketItems()) this.hold(app).sockets.adopt(spec, port, handle);
    for (const rec of store.processes()) {
      const hold = this.hold(rec.app);
      const log = this.logFor(hold, rec.log.dir, rec.log.bytes, rec.log.files);
      const proc = new AdoptedProcess(rec, store.pipesOf(rec.pid), log);
      this.track(rec.app, proc, true, rec.ready);
      this.adoptedCount++;
      this.log('adopted', { app: rec.app, version: rec.version, pid: rec.pid, running: proc.running(), stopping: Boolean(rec.stopping) });
    }
  }

  serve(server: net.Server): void {
    server.on('connection', (sock) => {
      this.clients.add(sock);
      this.log('agent connected');
      const decoder = new LineDecoder((msg) => void this.onRequest(sock, msg), (bad) => this.log('bad message', { line: bad }));
      sock.on('data', (d) => decoder.push(d));
      sock.on('error', () => sock.destroy());
      sock.on('close', () => {
        this.clients.delete(sock);
        this.log('agent disconnected; apps keep running');
      });
    });
  }

  private async onRequest(sock: net.Socket, msg: unknown): Promise<void> {
    const req = msg as Request & { id?: number };
    const id = req.id;
    try {
      const result = await this.handle(req);
      if (!sock.destroyed) sock.write(encode({ id, ok: true, result }));
    } catch (err) {
      if (!sock.destroyed) sock.write(encode({ id, ok: false, error: (err as Error).message }));
    }
  }

  private broadcast(ev: SupervisorEvent): void {
    const line = encode(ev);
    for (const c of this.clients) if (!c.destroyed) c.write(line);
  }

  async handle(req: Request): Promise<unknown> {
    switch (req.op) {
      case 'hello': {
        const res: HelloResult = {
          protocol: Math.min(PROTOCOL, req.args.protocol), pid: process.pid, version: this.version, started_at: this.startedAt,
          adopted: this.adoptedCount, holder_pid: this.holder?.holderPid,
        };
        return res;
      }
      case 'start': return this.start(req.args);
      case 'stop': {
        const t = this.tracked(req.args.pid);
        if (t.proc.running()) this.holder?.report({ t: 'stopping', v: HANDOVER_VERSION, pid: t.proc.pid, signal: req.args.signal, deadline_ms: Date.now() + req.args.timeout_ms });
        return t.proc.stop(req.args.signal as NodeJS.Signals, req.args.timeout_ms);
      }
      case 'list': return [...this.procs.values()].filter((t) => !req.args.app || t.app === req.args.app).map((t) => this.info(t));
      case 'tail': return this.tracked(req.args.pid).proc.lastLines(req.args.lines);
      case 'forget': {
        const t = this.procs.get(req.args.pid);
        if (t && !t.proc.running()) this.procs.delete(req.args.pid);
        return true;
      }
      case 'replace': {
        // The holder starts the successor when this process is gone (holder.ts); the apps are adopted by it.
        if (!this.holder || !Array.isArray(req.args.argv) || req.args.argv.length === 0) throw new Error('replace needs a holder and the successor\'s command line');
        this.holder.report({ t: 'successor', v: HANDOVER_VERSION, argv: req.args.argv.map(String) });
        this.log('replacing this supervising process with a new build', { argv: req.args.argv });
        setTimeout(() => process.kill(process.pid, 'SIGTERM'), 300).unref();
        return true;
      }
      default:
        throw new Error(`unknown op "${(req as { op?: string }).op}" (this supervisor speaks protocol ${PROTOCOL}, version ${this.version})`);
    }
  }

  private hold(app: string): AppHold {
    let h = this.apps.get(app);
    if (!h) {
      h = {
        sockets: new SocketSet(undefined, (spec, s) => this.holder?.report({ t: 'socket', v: HANDOVER_VERSION, app, spec: { name: spec.name, host: spec.host, port: spec.port }, port: s.port }, s.handle)),
      };
      this.apps.set(app, h);
    }
    return h;
  }

  private tracked(pid: number): Tracked {
    const t = this.procs.get(pid);
    if (!t) throw new Error(`no process ${pid} is supervised here`);
    return t;
  }

  private async start(a: StartArgs): Promise<ProcessInfo> {
    const hold = this.hold(a.app);
    const sockets = await hold.sockets.ensure(a.sockets);
    const log = this.logFor(hold, a.logDir, a.logBytes, a.logFiles);
    const proc = await this.runner.start({
      app: a.app, version: a.version, sha256: a.sha256, releaseDir: a.releaseDir, command: a.command, env: a.env,
      sockets, log, uid: a.uid, gid: a.gid,
    });
    const rec: HeldProcess = {
      app: a.app, pid: proc.pid, version: a.version, sha256: a.sha256, started_at: proc.startedAt.toISOString(), start_ticks: proc.startTicks,
      sockets: proc.sockets, log: { dir: a.logDir, bytes: a.logBytes, files: a.logFiles }, ready: false,
    };
    this.holder?.report({ t: 'proc', v: HANDOVER_VERSION, rec });
    for (const [name, handle] of proc.pipeHandles()) this.holder?.report({ t: 'pipe', v: HANDOVER_VERSION, pid: proc.pid, name }, handle);
    this.log('started', { app: a.app, version: a.version, pid: proc.pid });
    return this.info(this.track(a.app, proc, false, false));
  }

  private logFor(hold: AppHold, dir: string, bytes: number, files: number): AppLog {
    if (!hold.log || hold.logDir !== dir) {
      hold.log?.close();
      hold.log = new AppLog(dir, bytes, files);
      hold.logDir = dir;
    }
    return hold.log;
  }

  /** Watches a process's readiness and exit, telling the agent and the holder. */
  private track(app: string, proc: SupervisedProcess, adopted: boolean, ready: boolean): Tracked {
    const t: Tracked = { app, proc, sockets: proc.sockets, ready, adopted };
    this.procs.set(proc.pid, t);
    if (!ready) {
      void proc.notifiedReady.then(() => {
        if (!proc.running()) return;
        t.ready = true;
        this.holder?.report({ t: 'ready', v: HANDOVER_VERSION, pid: proc.pid });
        this.broadcast({ event: 'ready', app, pid: proc.pid });
      });
    }
    void proc.exited.then((exit) => {
      t.exit = exit;
      t.output = proc.lastLines(20);
      this.holder?.report({ t: 'gone', v: HANDOVER_VERSION, pid: proc.pid });
      this.log('exited', { app, pid: proc.pid, code: exit.code, signal: exit.signal, requested: exit.requested, unknown: exit.unknown });
      this.broadcast({ event: 'exit', app, pid: proc.pid, exit, output: t.output });
      this.trimExited(app);
    });
    return t;
  }

  private trimExited(app: string): void {
    const exited = [...this.procs.values()].filter((t) => t.app === app && t.exit);
    for (const t of exited.slice(0, Math.max(0, exited.length - MAX_EXITED_PER_APP))) this.procs.delete(t.proc.pid);
  }

  private info(t: Tracked): ProcessInfo {
    return {
      app: t.app, pid: t.proc.pid, version: t.proc.version, sha256: t.proc.sha256, started_at: t.proc.startedAt.toISOString(),
      start_ticks: t.proc.startTicks, running: t.proc.running(), ready: t.ready,
      exit: t.exit ? { code: t.exit.code, signal: t.exit.signal, requested: t.exit.requested, unknown: t.exit.unknown } : undefined,
      sockets: t.sockets, adopted: t.adopted,
    };
  }
}
