// The http and tcp checks that confirm a new version answers: each attempt
// says what it saw, so a start that never passes its check can say why
// (refused, an HTTP status, no answer) instead of only that it timed out.
// And the wait itself honours a cancel that came before it began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { httpOk, tcpOk, waitReady, NotReadyError } from '../../agent/runtime/readiness.js';
import type { AppProcess } from '../../agent/runtime/process/runner.js';
import type { RunSpec } from '../../common/manifest.js';

async function listening(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listening(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test('http check: 2xx passes; another status fails and names it', async () => {
  let status = 200;
  const server = http.createServer((_req, res) => { res.writeHead(status); res.end(); });
  const port = await listening(server);
  try {
    assert.deepEqual(await httpOk('127.0.0.1', port, '/healthz'), { ok: true, why: 'HTTP 200' });
    status = 503;
    assert.deepEqual(await httpOk('127.0.0.1', port, '/healthz'), { ok: false, why: 'HTTP 503' });
  } finally {
    server.close();
  }
});

test('http and tcp checks: a refused connection says so', async () => {
  const port = await closedPort();
  assert.deepEqual(await httpOk('127.0.0.1', port, '/'), { ok: false, why: 'connection refused (ECONNREFUSED)' });
  assert.deepEqual(await tcpOk('127.0.0.1', port), { ok: false, why: 'connection refused (ECONNREFUSED)' });
});

test('http check: a server that accepts but never answers is a failure that names the wait', async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  const port = await listening(server);
  try {
    assert.deepEqual(await httpOk('127.0.0.1', port, '/', 200), { ok: false, why: 'no answer within 200 ms' });
    assert.deepEqual(await tcpOk('127.0.0.1', port), { ok: true, why: 'connected' });
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('waitReady: a cancel that came before the wait began ends it at once, not after health.timeout_s', { timeout: 60_000 }, async () => {
  const never = new Promise<never>(() => undefined);
  // The parts of a started process the wait looks at: it never says READY=1 and never exits.
  const proc = {
    pid: 1, sockets: [], exited: never, notifiedReady: never,
    running: () => true, lastOutput: async () => ['still starting'],
  } as unknown as AppProcess;
  const run = { notify: true, min_uptime_s: 1, health: { timeout_s: 600 } } as unknown as RunSpec;
  const ac = new AbortController();
  ac.abort('cancelled by the client');
  await assert.rejects(waitReady({ run, proc, releaseDir: '/', env: {}, signal: ac.signal }),
    (err: Error) => err instanceof NotReadyError && /cancelled/.test(err.message) && err.output[0] === 'still starting');
});
