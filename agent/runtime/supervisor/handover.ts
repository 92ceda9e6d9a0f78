// What the supervising process hands over to its holder, and the holder to
// the next supervising process: the apps' listening sockets and the read ends
// of each app process's pipes (as handles, over Node's IPC channel, which
// passes them with SCM_RIGHTS), and a record of each process. The holder
// keeps the newest of everything (HandOverStore); a new supervising process
// receives it all, then `end`, and adopts the processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SocketSpec } from './protocol.js';

/** Bumped when a message changes meaning; a supervising process refuses a hand-over of another version. */
export const HANDOVER_VERSION = 1;

/** A libuv handle as Node passes it over IPC (a TCP or Pipe wrap): opaque here but for its fd. */
export interface RawHandle {
  readonly fd: number;
  close(cb?: () => void): void;
}

export type PipeName = 'stdout' | 'stderr' | 'notify';

export interface HeldProcess {
  app: string;
  pid: number;
  version: string;
  sha256: string;
  started_at: string;
  start_ticks: number;
  sockets: SocketSpec[];
  log: { dir: string; bytes: number; files: number };
  ready: boolean;
  /** A stop in progress: its signal and the wall-clock deadline (ms) of its SIGKILL. */
  stopping?: { signal: string; deadline_ms: number };
}

export type HandOver =
  /** `spec` as the start request named it (port 0: any), `port` the one it is bound to. */
  | { t: 'socket'; v: number; app: string; spec: SocketSpec; port: number }
  | { t: 'pipe'; v: number; pid: number; name: PipeName }
  | { t: 'proc'; v: number; rec: HeldProcess }
  | { t: 'ready'; v: number; pid: number }
  | { t: 'stopping'; v: number; pid: number; signal: string; deadline_ms: number }
  | { t: 'gone'; v: number; pid: number }
  /** Protocol 3: the next supervising process is to be started with this command line (a new build's; [program, ...args]). Not state: the holder acts on it. */
  | { t: 'successor'; v: number; argv: string[] }
  | { t: 'end'; v: number };

type Item = { msg: HandOver; handle?: RawHandle };

/**
 * The newest hand-over state: sockets by app and address, processes by pid
 * with their pipes. `closeOnDrop`: the holder closes its copies of a gone
 * process's pipes; the supervising process's own are closed by their streams.
 */
export class HandOverStore {
  private readonly sockets = new Map<string, Item>();
  private readonly procs = new Map<number, HeldProcess>();
  private readonly pipes = new Map<number, Map<PipeName, RawHandle>>();

  constructor(private readonly closeOnDrop: boolean) {}

  apply(msg: HandOver, handle?: RawHandle): void {
    switch (msg.t) {
      case 'socket':
        if (handle) this.sockets.set(`${msg.app}|${msg.spec.name}|${msg.spec.host}|${msg.spec.port}`, { msg, handle });
        return;
      case 'pipe': {
        if (!handle) return;
        let m = this.pipes.get(msg.pid);
        if (!m) this.pipes.set(msg.pid, (m = new Map()));
        m.set(msg.name, handle);
        return;
      }
      case 'proc':
        this.procs.set(msg.rec.pid, { ...msg.rec });
        return;
      case 'ready': {
        const p = this.procs.get(msg.pid);
        if (p) p.ready = true;
        return;
      }
      case 'stopping': {
        const p = this.procs.get(msg.pid);
        if (p) p.stopping = { signal: msg.signal, deadline_ms: msg.deadline_ms };
        return;
      }
      case 'gone':
        this.procs.delete(msg.pid);
        if (this.closeOnDrop) for (const h of this.pipes.get(msg.pid)?.values() ?? []) h.close();
        this.pipes.delete(msg.pid);
        return;
      case 'successor':
      case 'end':
        return;
    }
  }

  /** Everything, in an order a receiver can apply: sockets, then each process and its pipes. */
  replay(): Item[] {
    const out: Item[] = [...this.sockets.values()];
    for (const rec of this.procs.values()) {
      out.push({ msg: { t: 'proc', v: HANDOVER_VERSION, rec: { ...rec } } });
      for (const [name, handle] of this.pipes.get(rec.pid) ?? []) out.push({ msg: { t: 'pipe', v: HANDOVER_VERSION, pid: rec.pid, name }, handle });
    }
    return out;
  }

  processes(): HeldProcess[] {
    return [...this.procs.values()];
  }

  pipesOf(pid: number): Map<PipeName, RawHandle> {
    return this.pipes.get(pid) ?? new Map();
  }

  socketItems(): { app: string; spec: SocketSpec; port: number; handle: RawHandle }[] {
    return [...this.sockets.values()].flatMap(({ msg, handle }) =>
      msg.t === 'socket' && handle ? [{ app: msg.app, spec: msg.spec, port: msg.port, handle }] : []);
  }
}

/** The holder's pid file, beside the supervisor's socket. */
export function holderPidFile(socketDir: string): string {
  return join(socketDir, 'holder.pid');
}

export function writeHolderPid(socketDir: string): void {
  writeFileSync(holderPidFile(socketDir), `${process.pid}\n`, { mode: 0o600 });
}

/** The pid of this socket's holder if it still runs (its command line names the socket and --hold), else undefined. */
export function liveHolder(socketDir: string, socketPath: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(holderPidFile(socketDir), 'utf8').trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || !argv.includes('--hold') || argv[argv.indexOf('--socket') + 1] !== socketPath) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}
