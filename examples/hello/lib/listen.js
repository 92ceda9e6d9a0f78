// Listening on the socket slipway hands over, readiness, and draining.
//
// This is a plain-JavaScript copy of the `slipway/app` helper (app/index.ts in
// the slipway package). The example cannot import that package: its release
// must be self-contained and build without the npm registry, so it carries
// its own copy. Keep the two small and equivalent.
//
// The protocol is systemd's socket activation: the agent binds every socket in
// run.listen once and passes them to each version as fds 3, 4, …, with
//   LISTEN_FDS      how many fds were passed
//   LISTEN_FDNAMES  their names, colon-separated (the run.listen names)
//   LISTEN_PID      the pid they are meant for (ours, or they are not for us)
// and, for readiness, NOTIFY_FD: a pipe to write "READY=1\n" to.
import net from 'node:net';
import fs from 'node:fs';
import { setInterval } from 'node:timers'; // imported: the lint config has no such global

const FIRST_FD = 3;

function log(msg) {
  process.stderr.write(`[listen] ${msg}\n`);
}

/**
 * The inherited fd passed under `name`, or undefined when the process was
 * not started by socket activation (run by hand). Throws when fds were passed
 * to us but none is called `name`: binding a port of our own then would only
 * hide the mistake.
 */
export function inheritedFd(name) {
  const count = Number(process.env.LISTEN_FDS);
  if (!process.env.LISTEN_FDS || !Number.isInteger(count) || count < 1) return undefined;
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

/**
 * Listens on the inherited socket called `name`, or on `fallbackPort` when
 * run by hand. Resolves to { fd } or { port } once listening. The socket's
 * flags are left alone: it is shared with the other running version, and
 * making it blocking would stall that one.
 */
export function listen(server, name, fallbackPort) {
  const fd = inheritedFd(name);
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      if (fd !== undefined) {
        log(`${name}: listening on inherited fd ${fd}`);
        resolve({ fd });
      } else {
        const addr = server.address();
        const port = typeof addr === 'object' && addr ? addr.port : undefined;
        log(`${name}: no inherited socket, listening on port ${port} (fallback)`);
        resolve({ port });
      }
    });
    if (fd !== undefined) server.listen({ fd });
    else server.listen(fallbackPort ?? 0);
  });
}

/** Tells the supervisor we are ready: "READY=1\n" on NOTIFY_FD, once. */
export function notifyReady() {
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
    log(`cannot write READY=1 to NOTIFY_FD ${fd}: ${err.message}`);
  }
  try { fs.closeSync(fd); } catch { /* already closed */ }
}

/**
 * On `signal` (default SIGTERM): stop accepting, let in-flight requests finish
 * with "Connection: close", close idle keep-alive connections after a short
 * moment, and exit once every connection is gone (exit 1 after `timeoutMs`).
 * Not http's server.close(): on Node >= 19 it drops idle keep-alive sockets at
 * once, and clients racing a request onto one see ECONNRESET.
 */
export function drainOnSignal(server, { signal = 'SIGTERM', timeoutMs = 10_000, idleMs = 500 } = {}) {
  let draining = false;
  const open = new Set(); // responses whose headers are not sent yet
  server.prependListener('request', (_req, res) => {
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
