// slipway/app: what an app needs to run under slipway, dependency-free.
//
//   import { listen, notifyReady, drainOnSignal } from 'slipway/app';
//   const server = http.createServer(handler);
//   drainOnSignal(server);
//   await listen(server, 'http', { port: 4000 }); // the run.listen name; the port is for runs by hand
//   notifyReady();
//
// The agent binds every socket in run.listen once and passes them to each
// version of the app per systemd's socket activation: fds 3, 4, … with
// LISTEN_FDS (how many), LISTEN_FDNAMES (their names, colon-separated) and
// LISTEN_PID (the pid they are for). Readiness goes back as "READY=1\n" on
// the fd named in NOTIFY_FD. examples/hello/lib/listen.js is a plain-JS copy
// of this module (its release must build without the registry): keep the two
// equivalent.
import net from 'node:net';
import type http from 'node:http';
import fs from 'node:fs';

const FIRST_FD = 3;

function log(msg: string): void {
  process.stderr.write(`[slipway/app] ${msg}\n`);
}

/**
 * The inherited fd passed under `name`, or undefined when the process was not
 * started by socket activation (LISTEN_FDS unset, or LISTEN_PID not ours).
 * Throws when fds were passed to this process but none is called `name`.
 */
export function inheritedFd(name: string): number | undefined {
  const raw = process.env.LISTEN_FDS;
  const count = Number(raw);
  if (!raw || !Number.isInteger(count) || count < 1) return undefined;
  if (Number(process.env.LISTEN_PID) !== process.pid) {
    log(`LISTEN_PID is ${process.env.LISTEN_PID ?? 'unset'}, not our pid ${process.pid}: ignoring the ${count} passed fd(s)`);
    return undefined;
  }
  const names = process.env.LISTEN_FDNAMES ? process.env.LISTEN_FDNAMES.split(':') : [];
  const i = names.indexOf(name);
  if (i >= 0 && i < count) return FIRST_FD + i;
  // Without names, a single fd is the one (systemd's own convention).
  if (names.length === 0 && count === 1) return FIRST_FD;
  throw new Error(`no inherited socket named "${name}" (LISTEN_FDS=${count}, LISTEN_FDNAMES=${process.env.LISTEN_FDNAMES ?? ''})`);
}

export interface ListenResult {
  /** The inherited fd, when listening on the socket slipway passed. */
  fd?: number;
  /** The port bound, when run by hand (no socket passed). */
  port?: number;
}

/**
 * Listens on the inherited socket called `name`, or, when run by hand, on
 * `opts.port` (0 or unset: any free port) and `opts.host`. Resolves once
 * listening. The socket's flags are left alone: it is shared with the other
 * running version, and making it blocking would stall that one.
 */
export function listen(server: net.Server, name: string, opts: { port?: number; host?: string } = {}): Promise<ListenResult> {
  const fd = inheritedFd(name);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      if (fd !== undefined) {
        log(`${name}: listening on inherited fd ${fd}`);
        resolve({ fd });
      } else {
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : undefined;
        log(`${name}: no inherited socket, listening on port ${port ?? addr ?? '?'} (fallback)`);
        resolve({ port });
      }
    });
    if (fd !== undefined) server.listen({ fd });
    else server.listen({ port: opts.port ?? 0, host: opts.host });
  });
}

/** Tells the supervisor the app is ready: "READY=1\n" on NOTIFY_FD, once. A no-op when run by hand. */
export function notifyReady(): void {
  const raw = process.env.NOTIFY_FD;
  if (!raw) return;
  delete process.env.NOTIFY_FD; // once only, and not for our children
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 0) {
    log(`NOTIFY_FD "${raw}" is not a file descriptor; not notifying`);
    return;
  }
  try {
    fs.writeSync(fd, 'READY=1\n');
  } catch (err) {
    log(`cannot write READY=1 to NOTIFY_FD ${fd}: ${(err as Error).message}`);
  }
  try { fs.closeSync(fd); } catch { /* already closed */ }
}

export interface DrainOptions {
  /** The stop signal (run.stop.signal); default SIGTERM. */
  signal?: NodeJS.Signals;
  /** Exit with status 1 if connections are still open after this long; default 10 s. Keep it under run.stop.drain_timeout_s. */
  timeoutMs?: number;
  /** How long an idle keep-alive connection may still send a request before it is closed; default 500 ms. */
  idleMs?: number;
}

/**
 * On `signal`: stop accepting, let in-flight requests finish with
 * "Connection: close", close idle keep-alive connections after a short
 * moment, and exit once every connection is gone. Not http's server.close():
 * on Node >= 19 it drops idle keep-alive sockets at once, and clients racing
 * a request onto one see ECONNRESET. Upgraded sockets (WebSockets) are the
 * app's to end; the timeout is the safety net.
 */
export function drainOnSignal(server: http.Server, opts: DrainOptions = {}): void {
  const { signal = 'SIGTERM', timeoutMs = 10_000, idleMs = 500 } = opts;
  let draining = false;
  const open = new Set<http.ServerResponse>(); // responses whose headers are not sent yet
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) { res.setHeader('Connection', 'close'); return; }
    open.add(res);
    res.once('finish', () => open.delete(res));
    res.once('close', () => open.delete(res));
  });
  process.on(signal, () => {
    if (draining) return;
    draining = true;
    log(`${signal}: draining (stop accepting, finish in-flight requests, at most ${timeoutMs} ms)`);
    for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
    open.clear();
    server.once('close', () => {
      log('drained, exiting');
      process.exit(0);
    });
    net.Server.prototype.close.call(server); // stop accepting only
    setInterval(() => server.closeIdleConnections(), idleMs).unref();
    setTimeout(() => {
      log(`drain did not finish in ${timeoutMs} ms; exiting with connections open`);
      process.exit(1);
    }, timeoutMs).unref();
  });
}
