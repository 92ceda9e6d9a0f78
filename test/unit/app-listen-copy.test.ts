// slipway/app (app/index.ts) and the example's plain-JS copy
// (examples/hello/lib/listen.js) must stay equivalent: the example cannot
// import the package, so it carries its own copy. Both are run through the
// same cases here and must give the same results: which inherited fd a name
// means (or the same error), and, in a real process started as the agent
// starts apps (a socket bound by the agent's own code as fd 3, LISTEN_PID set
// by the shell, NOTIFY_FD a pipe), listening on that socket, READY=1, and a
// drain on SIGTERM that finishes an in-flight request with Connection: close
// and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as tsCopy from '../../app/index.js';
import { bindSocket } from '../../agent/runtime/sockets.js';

const JS_COPY = new URL('../../examples/hello/lib/listen.js', import.meta.url);
const TS_COPY = new URL('../../app/index.ts', import.meta.url);

interface Impl { inheritedFd(name: string): number | undefined }

function outcome(impl: Impl, name: string): string {
  try {
    return `fd ${impl.inheritedFd(name)}`;
  } catch (err) {
    return `error ${(err as Error).message}`;
  }
}

test('inheritedFd: both copies read LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID alike', async () => {
  const jsCopy = (await import(JS_COPY.href)) as Impl;
  const saved = { ...process.env };
  const stderr = process.stderr.write.bind(process.stderr);
  process.stderr.write = () => true; // both log why they ignore passed fds; the words differ, the results may not
  const cases: Record<string, string | undefined>[] = [
    {},
    { LISTEN_FDS: '1' },
    { LISTEN_FDS: '1', LISTEN_PID: String(process.pid + 1) },
    { LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin', LISTEN_PID: String(process.pid) },
    { LISTEN_FDS: '1', LISTEN_FDNAMES: 'admin', LISTEN_PID: String(process.pid) },
    { LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
    { LISTEN_FDS: '0', LISTEN_PID: String(process.pid) },
    { LISTEN_FDS: 'x', LISTEN_PID: String(process.pid) },
    { LISTEN_FDS: '1', LISTEN_FDNAMES: 'admin:http', LISTEN_PID: String(process.pid) },
  ];
  try {
    for (const c of cases) {
      for (const k of ['LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID']) delete process.env[k];
      Object.assign(process.env, c);
      for (const name of ['http', 'admin']) {
        assert.equal(outcome(jsCopy, name), outcome(tsCopy, name), `${JSON.stringify(c)} name ${name}`);
      }
    }
    Object.assign(process.env, { LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin', LISTEN_PID: String(process.pid) });
    assert.equal(outcome(tsCopy, 'admin'), 'fd 4'); // the cases above can tell a right answer from a wrong one
  } finally {
    process.stderr.write = stderr;
    for (const k of ['LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID']) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

/** The app both copies serve: "/" answers at once, "/slow" once SIGTERM has come. */
function appScript(impl: URL, isTs: boolean): string {
  const listenCall = isTs ? "m.listen(server, 'http', { port: 0 })" : "m.listen(server, 'http', 0)";
  return `const m = await import(${JSON.stringify(impl.href)});
const http = await import('node:http');
const server = http.createServer((req, res) => {
  if (req.url !== '/slow') { res.end('hello'); return; }
  process.stdout.write('slow-received\\n');
  process.once('SIGTERM', () => setImmediate(() => res.end('slow-done')));
});
m.drainOnSignal(server, { timeoutMs: 60000 });
const r = await ${listenCall};
process.stdout.write(JSON.stringify({ listen: Object.keys(r).sort() }) + '\\n');
m.notifyReady();
`;
}

function get(port: number, path: string): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
  });
}

async function runAsTheAgentDoes(impl: URL, isTs: boolean): Promise<unknown> {
  const sock = await bindSocket({ name: 'http', host: '127.0.0.1', port: 0 });
  try {
    const node = [process.execPath, ...(isTs ? ['--import', 'tsx'] : []), '--input-type=module', '-e', appScript(impl, isTs)];
    const child = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', ...node], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, LISTEN_FDS: '1', LISTEN_FDNAMES: 'http', NOTIFY_FD: '4' },
      stdio: ['ignore', 'pipe', 'pipe', sock.fd, 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const notify = child.stdio[4] as NodeJS.ReadableStream;
    let ready = '';
    for await (const chunk of notify) {
      ready += String(chunk);
      if (ready.includes('\n')) break;
    }
    const first = await get(sock.port, '/');
    const slow = get(sock.port, '/slow');
    while (!out.includes('slow-received')) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const drained = await slow;
    const [code, signal] = await exited;
    return {
      ready, listen: JSON.parse(out.split('\n')[0]!) as unknown, first: first.body,
      drained: { status: drained.status, connection: drained.connection, body: drained.body },
      exit: { code, signal }, listenedOnInheritedFd: /listening on inherited fd 3/.test(err),
    };
  } finally {
    sock.close();
  }
}

test('started as the agent starts apps, both copies listen on the inherited socket, say READY=1 and drain alike', async () => {
  const fromTs = await runAsTheAgentDoes(TS_COPY, true);
  const fromJs = await runAsTheAgentDoes(JS_COPY, false);
  assert.deepEqual(fromTs, {
    ready: 'READY=1\n', listen: { listen: ['fd'] }, first: 'hello',
    drained: { status: 200, connection: 'close', body: 'slow-done' }, exit: { code: 0, signal: null }, listenedOnInheritedFd: true,
  });
  assert.deepEqual(fromJs, fromTs);
});
