// The app bench/swap.ts runs under PM2 (cluster mode): the same answers as
// examples/hello's /version, and the same graceful drain, so that the
// comparison is about the supervisors, not the apps.
//   GET /version   {"version","pid"}; the version is read once at start from $VERSION_FILE
// On SIGINT (PM2's stop signal): stop accepting, answer in-flight requests
// with "Connection: close", close idle keep-alive connections every 500 ms,
// exit once no connection is left. PM2 SIGKILLs it after kill_timeout.
/* global require, process, setInterval, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- PM2 cluster mode runs CommonJS */
'use strict';
const http = require('node:http');
const net = require('node:net');
const fs = require('node:fs');

const version = fs.readFileSync(process.env.VERSION_FILE, 'utf8').trim();
let draining = false;

const server = http.createServer((req, res) => {
  if (draining) res.setHeader('Connection', 'close');
  const body = `${JSON.stringify({ version, pid: process.pid })}\n`;
  res.writeHead(req.url === '/version' ? 200 : 404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (draining) return;
    draining = true;
    server.once('close', () => process.exit(0));
    net.Server.prototype.close.call(server); // stop accepting only (http's close drops idle keep-alive sockets at once)
    setInterval(() => server.closeIdleConnections(), 500).unref();
  });
}

server.listen(Number(process.env.PORT), '127.0.0.1');
