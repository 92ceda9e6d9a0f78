// When a newly started version counts as ready (design.md, the readiness
// rule): evidence from that very process first (READY=1 on NOTIFY_FD, or a
// `command` check run with its SLIPWAY_PID), or, for apps that cannot signal
// (run.notify is false), staying up for min_uptime_s; then an `http`/`tcp`
// check confirms that the service answers. The process exiting, or the
// timeout, fails it.
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import type { RunSpec } from '../../common/manifest.js';
import type { AppProcess } from './process/runner.js';
import { describeExit } from './process/runner.js';
import type { SocketSpec } from './supervisor/protocol.js';
import { withAddressInUseHint } from './port-hint.js';

export class NotReadyError extends Error {
  constructor(message: string, readonly output: string[]) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface ReadyOptions {
  run: RunSpec;
  proc: AppProcess;
  releaseDir: string;
  env: Record<string, string>;
  /** Who a `command` check runs as: the app's user (app-users.ts), like the app itself. */
  user?: { uid: number; gid: number };
  signal?: AbortSignal;
}

export type Evidence = 'notify' | 'command' | 'uptime';

/** Why a wait ended without readiness; turned into a NotReadyError with the process's last output. */
class Stop {
  constructor(readonly why: string, readonly timeout = false) {}
}

/**
 * Resolves with the evidence that made the process ready; rejects with
 * NotReadyError. With `run.notify: true` only READY=1 (or a command check)
 * counts, never mere uptime: a slow start is then not mistaken for a ready one
 * while the old version answers the shared socket.
 */
export async function waitReady(o: ReadyOptions): Promise<Evidence> {
  const health = o.run.health;
  const timeoutS = health?.timeout_s ?? 30;
  const intervalMs = health?.interval_ms ?? 200;
  const ac = new AbortController();
  const stopAll = () => ac.abort();
  o.signal?.addEventListener('abort', stopAll, { once: true });
  try {
    // A cancel that came before this wait began (between the start and here) counts too: an abort
    // listener added to a signal already aborted never runs, and the wait would last health.timeout_s.
    if (o.signal?.aborted) throw new Stop('the wait for readiness was cancelled');
    const exited = o.proc.exited.then((e) => { throw new Stop(`the new version ${describeExit(e)} before it was ready`); });
    const timedOut = sleep(timeoutS * 1000, ac.signal).then(() => { throw new Stop(`the new version was not ready within health.timeout_s = ${timeoutS} s`, true); });
    const aborted = new Promise<never>((_, rej) => ac.signal.addEventListener('abort', () => rej(new Stop('the wait for readiness was cancelled')), { once: true }));
    const evidence: Promise<Evidence>[] = [o.proc.notifiedReady.then(() => 'notify' as const)];
    if (!o.run.notify) evidence.push(sleep(o.run.min_uptime_s * 1000, ac.signal).then(() => 'uptime' as const));
    const cmd = health?.command;
    if (cmd) evidence.push(poll(() => runCheck(cmd, o.releaseDir, { ...o.env, SLIPWAY_PID: String(o.proc.pid) }, o.user), intervalMs, ac.signal).then(() => 'command' as const));
    const got = await Promise.race([Promise.race(evidence), exited, timedOut, aborted]);
    const confirm = confirmCheck(o.run, o.proc.sockets);
    if (confirm) {
      let last = '';
      const attempt = async () => {
        const r = await confirm.check();
        last = r.why;
        return r.ok;
      };
      await Promise.race([poll(attempt, intervalMs, ac.signal), exited, timedOut, aborted]).catch((err: unknown) => {
        if (err instanceof Stop && err.timeout) {
          throw new Stop(`the new version did not pass its ${confirm.what} check within health.timeout_s = ${timeoutS} s${last ? ` (last attempt: ${last})` : ''}`, true);
        }
        throw err;
      });
    }
    if (!o.proc.running()) throw new Stop('the new version exited right after it became ready');
    return got;
  } catch (err) {
    if (err instanceof Stop) {
      const output = await o.proc.lastOutput(20).catch(() => []);
      throw new NotReadyError(withAddressInUseHint(err.why, output, o.run.listen), output);
    }
    throw err;
  } finally {
    ac.abort();
    o.signal?.removeEventListener('abort', stopAll);
  }
}

/** One attempt of an http/tcp check: whether it passed, and what was seen (for the error when none passes). */
export interface CheckResult {
  ok: boolean;
  why: string;
}

interface Confirm {
  what: string;
  check: () => Promise<CheckResult>;
}

/** The http/tcp check of the manifest, aimed at the right address, or undefined. */
export function confirmCheck(run: RunSpec, sockets: readonly SocketSpec[]): Confirm | undefined {
  const h = run.health;
  const target = (listen?: string, port?: number) => {
    const s = listen ? sockets.find((x) => x.name === listen) : undefined;
    const host = s ? (s.host === '0.0.0.0' ? '127.0.0.1' : s.host === '::' ? '::1' : s.host) : '127.0.0.1';
    return { host, port: s ? s.port : port ?? 0 };
  };
  if (h?.http) {
    const { host, port } = target(h.http.listen, h.http.port);
    const path = h.http.path;
    return { what: `http GET ${host}:${port}${path}`, check: () => httpOk(host, port, path) };
  }
  if (h?.tcp) {
    const { host, port } = target(h.tcp.listen, h.tcp.port);
    return { what: `tcp ${host}:${port}`, check: () => tcpOk(host, port) };
  }
  return undefined;
}

export function httpOk(host: string, port: number, path: string, timeoutMs = 2000): Promise<CheckResult> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, timeout: timeoutMs, agent: false, headers: { 'user-agent': 'slipway-agent health', connection: 'close' } }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve({ ok: code >= 200 && code < 300, why: `HTTP ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, why: checkError(err) }));
  });
}

export function tcpOk(host: string, port: number, timeoutMs = 2000): Promise<CheckResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs }, () => { s.destroy(); resolve({ ok: true, why: 'connected' }); });
    s.on('timeout', () => { s.destroy(); resolve({ ok: false, why: `no connection within ${timeoutMs} ms` }); });
    s.on('error', (err) => resolve({ ok: false, why: checkError(err) }));
  });
}

/** "connection refused (ECONNREFUSED)", or the error's own message. */
function checkError(err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    EMFILE: 'the agent has no file descriptor left',
    EADDRNOTAVAIL: 'address not available',
  };
  const word = err.code ? words[err.code] : undefined;
  return word ? `${word} (${err.code})` : err.message;
}

function runCheck(cmd: string[], cwd: string, env: Record<string, string>, user?: { uid: number; gid: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd, env, stdio: 'ignore', timeout: 10_000, uid: user?.uid, gid: user?.gid });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

async function poll(check: () => Promise<boolean>, intervalMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (await check()) return;
    await sleep(intervalMs, signal);
  }
  return new Promise(() => { /* aborted: the race is decided elsewhere */ });
}

/** Resolves after ms; never once the signal is aborted. Its abort listener goes when it resolves (polls sleep many times on one signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return;
    const cancel = () => clearTimeout(t);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', cancel);
      resolve();
    }, ms);
    signal.addEventListener('abort', cancel, { once: true });
  });
}
