// The agent's side of the local channel: find the supervising process (or
// start one), say hello, send requests, receive its events, and notice when
// it is gone.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveHolder } from './handover.js';
import { PROTOCOL, LineDecoder, encode, socketPathFor, socketDirFor, type HelloResult, type Request, type SupervisorEvent } from './protocol.js';
import { entryUrl } from '../../worker-file.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class SupervisorClient extends EventEmitter<{ event: [SupervisorEvent]; lost: [] }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  hello!: HelloResult;

  private constructor(private readonly sock: net.Socket) {
    super();
    const decoder = new LineDecoder((m) => this.onMessage(m), () => undefined);
    sock.on('data', (d) => decoder.push(d));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      const wasOpen = !this.closed;
      this.closed = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('the supervising process went away'));
      }
      this.pending.clear();
      if (wasOpen) this.emit('lost');
    });
  }

  get alive(): boolean {
    return !this.closed;
  }

  /** Connects to a running supervisor; undefined if none answers. */
  static async connect(path: string, agentVersion: string): Promise<SupervisorClient | undefined> {
    const sock = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect(path, () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!sock) return undefined;
    const client = new SupervisorClient(sock);
    try {
      client.hello = await client.request<HelloResult>({ op: 'hello', args: { protocol: PROTOCOL, agent_version: agentVersion } }, 5000);
    } catch {
      client.close();
      return undefined;
    }
    return client;
  }

  private onMessage(m: unknown): void {
    const msg = m as { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string };
    if (msg.event) {
      this.emit('event', msg as SupervisorEvent);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error ?? 'the supervising process refused'));
  }

  request<T>(req: Request, timeoutMs = 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the supervising process went away'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject };
      p.timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the supervising process did not answer "${req.op}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, p);
      this.sock.write(encode({ id, ...req }));
    });
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

/** The supervisor's entry file: bundled, compiled beside this one, or the .ts source under tsx (agent/worker-file.ts). */
function supervisorEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(entryUrl('supervisor', new URL('./main.js', import.meta.url)));
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL('./main.ts', import.meta.url)), execArgv: ['--import', import.meta.resolve('tsx')] };
}

/** The command line of a supervising process of this build ([program, ...args]): how the agent starts one, and what a `replace` hands the holder. */
export function supervisorCommand(path: string): string[] {
  const entry = supervisorEntry();
  return [process.execPath, ...entry.execArgv, '--max-semi-space-size=1', entry.file, '--socket', path];
}

/**
 * Connects to this state dir's supervisor. When none answers but its holder
 * lives, the holder is starting the successor: wait for it. Otherwise start
 * one (detached, in its own session, output to <state_dir>/supervisor.log).
 */
export async function ensureSupervisor(stateDir: string, agentVersion: string, runtimeDir?: string): Promise<{ client: SupervisorClient; started: boolean }> {
  const path = socketPathFor(stateDir, runtimeDir);
  const dir = socketDirFor(stateDir, runtimeDir);
  const existing = await SupervisorClient.connect(path, agentVersion);
  if (existing) return { client: existing, started: false };
  // While a holder lives, the apps keep their sockets and serve: wait for its successor (a fallback from a
  // bad new build takes a few starts on a busy host) rather than end what runs.
  const waitUntil = Date.now() + 60_000;
  while (liveHolder(dir, path) !== undefined && Date.now() < waitUntil) {
    const c = await SupervisorClient.connect(path, agentVersion);
    if (c) return { client: c, started: false };
    await new Promise((r) => setTimeout(r, 20));
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logFd = openSync(join(stateDir, 'supervisor.log'), 'a', 0o640);
  const [program, ...args] = supervisorCommand(path);
  const child = spawn(program as string, args, {
    detached: true, stdio: ['ignore', logFd, logFd], cwd: '/', env: process.env,
  });
  closeSync(logFd);
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const c = await SupervisorClient.connect(path, agentVersion);
    if (c) return { client: c, started: true };
    if (child.exitCode !== null && child.exitCode !== 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the supervising process did not start (see ${join(stateDir, 'supervisor.log')})`);
}
