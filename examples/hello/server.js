// hello: the example app that slipway's demo and tests deploy.
//
//   GET /         text: "<greeting> <version> from <hostname> pid <pid>[: <message>]"
//   GET /version  JSON: {"app", "version", "pid", "host", "greeting", "message"}
//   GET /healthz  200 "ok"
//   GET /sleep?ms=N  answers after N ms (at most 60 s): an in-flight request for drain tests
//   GET /stream   a long-lived answer: "tick <n> <version> pid <pid>" every 100 ms until
//                 the client closes it (drain tests: a connection that outlives a swap)
//
// Environment:
//   SLIPWAY_VERSION, SLIPWAY_APP  set by the agent (else package.json's version and name)
//   HELLO_GREETING        first word of "/" (default "hello")
//   HELLO_CRASH_ON_START  "1": exit 1 at once (tests of failed starts); a version: only that version does
//   HELLO_SPAWN_CHILD     "1": start a `sleep 600` child in the app's process group
//   HELLO_START_DELAY_MS  wait this long before listening (tests of slow starts)
//   PORT                  port when run by hand (default 4000); ignored under slipway
//   LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID, NOTIFY_FD  see lib/listen.js
//
// message.txt (next to this file) is read once at start; tests change it
// between commits to prove that the new code is what runs.
import http from 'node:http';
import os from 'node:os';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { setInterval, clearInterval } from 'node:timers'; // imported: the lint config has no such globals
import { listen, notifyReady, drainOnSignal } from './lib/listen.js';

const here = new URL('.', import.meta.url);

const pkg = JSON.parse(fs.readFileSync(new URL('package.json', here), 'utf8'));
const app = process.env.SLIPWAY_APP || pkg.name;
const version = process.env.SLIPWAY_VERSION || pkg.version;

// "1" crashes every version; a version number crashes only that one.
const crash = process.env.HELLO_CRASH_ON_START;
if (crash === '1' || crash === version) {
  process.stderr.write(`hello: HELLO_CRASH_ON_START=${crash}, exiting with status 1\n`);
  process.exit(1);
}

// A child in the app's own process group (tests: a stop leaves no orphan).
if (process.env.HELLO_SPAWN_CHILD === '1') {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  process.stderr.write(`hello: started a child, pid ${child.pid}\n`);
}
const greeting = process.env.HELLO_GREETING || 'hello';
const host = os.hostname();
let message = '';
try {
  message = fs.readFileSync(new URL('message.txt', here), 'utf8').trim();
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status, type, body) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  switch (url.pathname) {
    case '/':
      return send(200, 'text/plain; charset=utf-8',
        `${greeting} ${version} from ${host} pid ${process.pid}${message ? `: ${message}` : ''}\n`);
    case '/version':
      return send(200, 'application/json',
        `${JSON.stringify({ app, version, pid: process.pid, host, greeting, message })}\n`);
    case '/healthz':
      return send(200, 'text/plain; charset=utf-8', 'ok\n');
    case '/sleep': {
      const ms = Math.min(Math.max(Number(url.searchParams.get('ms')) || 0, 0), 60_000);
      const timer = setTimeout(() => send(200, 'text/plain; charset=utf-8', `slept ${ms} ms pid ${process.pid}\n`), ms);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    case '/stream': {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      let n = 0;
      const tick = () => res.write(`tick ${n++} ${version} pid ${process.pid}\n`);
      tick();
      const timer = setInterval(tick, 100);
      res.once('close', () => clearInterval(timer));
      return;
    }
    default:
      return send(404, 'text/plain; charset=utf-8', 'not found\n');
  }
});

// Installed before listening, so a stop during a slow start exits at once.
drainOnSignal(server, { signal: 'SIGTERM', timeoutMs: 10_000 });
drainOnSignal(server, { signal: 'SIGINT', timeoutMs: 10_000 }); // Ctrl-C when run by hand

const delay = Number(process.env.HELLO_START_DELAY_MS) || 0;
if (delay > 0) {
  process.stderr.write(`hello: HELLO_START_DELAY_MS=${delay}, waiting before listening\n`);
  await sleep(delay);
}

await listen(server, 'http', Number(process.env.PORT) || 4000);
notifyReady();
process.stderr.write(`hello ${version} (pid ${process.pid}) ready\n`);
