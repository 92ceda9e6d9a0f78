// The local channel between the agent and its supervising process: JSON
// lines over a Unix socket (owner-only, in a 0700 directory).
//
// Versioned: each side says its protocol number in `hello`; they speak the
// lower of the two, and an op the other side does not know is answered with
// an error, never a crash, so a newer agent can drive an older supervisor.
//
//   agent → supervisor   {id, op, args}                 a request
//   supervisor → agent   {id, ok: true, result} | {id, ok: false, error}
//   supervisor → agent   {event: 'exit' | 'ready', …}   pushed as it happens
//
// Protocol 1: a supervising process whose death ends its apps (the agent ends
// and restarts them). Protocol 2: it keeps a holder process (holder.ts) with
// copies of the apps' sockets and pipes, and its successor adopts the running
// apps: `list` then reports the same pids (`adopted: true`), and an agent
// that loses a protocol-2 supervisor waits for the successor instead.
// Protocol 3: `replace`: the supervising process hands its holder the command
// line of its successor (a new build's) and ends itself; the holder starts
// that one, which adopts the apps as in protocol 2 (an agent upgrade upgrades
// the supervising process so; a successor that fails at once is replaced by
// one of the old build).
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROTOCOL = 3;
/** The first protocol with `replace`. */
export const REPLACING_PROTOCOL = 3;
/** The first protocol whose supervising process is replaced without ending its apps. */
export const ADOPTING_PROTOCOL = 2;

/** Unix socket paths are limited to about 107 bytes; longer state dirs get a short private path. */
export const MAX_SOCKET_PATH = 100;

/**
 * The supervising process's socket directory: runtime_dir when the agent's
 * config sets it (/run/slipway under systemd: RuntimeDirectory= with
 * RuntimeDirectoryPreserve=yes), else <state_dir>/run.
 */
export function socketDirFor(stateDir: string, runtimeDir?: string): string {
  const preferred = runtimeDir ?? join(stateDir, 'run');
  if (join(preferred, 'supervisor.sock').length <= MAX_SOCKET_PATH) return preferred;
  const hash = createHash('sha256').update(stateDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `slipway-${process.getuid?.() ?? 0}-${hash}`);
}

export function socketPathFor(stateDir: string, runtimeDir?: string): string {
  return join(socketDirFor(stateDir, runtimeDir), 'supervisor.sock');
}

export interface SocketSpec {
  name: string;
  host: string;
  port: number;
}

export interface HeldSocket extends SocketSpec {
  fd: number;
}

export interface StartArgs {
  app: string;
  version: string;
  sha256: string;
  /** The resolved release directory (never through the `current` link). */
  releaseDir: string;
  command: string[];
  env: Record<string, string>;
  sockets: SocketSpec[];
  logDir: string;
  logBytes: number;
  logFiles: number;
  uid?: number;
  gid?: number;
}

export interface ProcessInfo {
  app: string;
  pid: number;
  version: string;
  sha256: string;
  started_at: string;
  start_ticks: number;
  running: boolean;
  ready: boolean;
  exit?: ExitRecord;
  sockets: SocketSpec[];
  /** Started by an earlier supervising process and adopted by this one (protocol 2). */
  adopted?: boolean;
}

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  requested: boolean;
  /** The exit status could not be read: an adopted process is not this supervisor's child (protocol 2). */
  unknown?: boolean;
}

export type Request =
  | { op: 'hello'; args: { protocol: number; agent_version: string } }
  | { op: 'start'; args: StartArgs }
  | { op: 'stop'; args: { pid: number; signal: string; timeout_ms: number } }
  | { op: 'list'; args: { app?: string } }
  | { op: 'tail'; args: { pid: number; lines: number } }
  | { op: 'forget'; args: { pid: number } }
  | { op: 'replace'; args: { argv: string[] } };

export type SupervisorEvent =
  | { event: 'exit'; app: string; pid: number; exit: ExitRecord; output: string[] }
  | { event: 'ready'; app: string; pid: number };

export interface HelloResult {
  protocol: number;
  pid: number;
  version: string;
  started_at: string;
  /** Protocol 2: processes this supervisor adopted from its predecessor, and its holder's pid. */
  adopted?: number;
  holder_pid?: number;
}

/** Splits a byte stream into JSON lines; a line that does not parse is reported, not thrown. */
export class LineDecoder {
  private buf = '';
  constructor(private readonly onMessage: (msg: unknown) => void, private readonly onBad: (line: string) => void) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (!line.trim()) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.onBad(line.slice(0, 200));
        continue;
      }
      this.onMessage(msg);
    }
    if (this.buf.length > 16 * 1024 * 1024) {
      this.onBad('message over 16 MiB');
      this.buf = '';
    }
  }
}

export function encode(msg: object): string {
  return `${JSON.stringify(msg)}\n`;
}
