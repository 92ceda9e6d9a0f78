// bindSocket (agent/runtime/sockets.ts) when the app's port is taken, for
// real: by another listener, and as the local port of a connection (any
// port in Linux's ephemeral range can be one). libuv reports such a bind's
// EADDRINUSE only at listen(), which the agent leaves to a helper process:
// the socket then stayed unbound and listened on a random port, the app
// "listened on inherited fd 3", and its health check was refused for 30 s
// (seen in CI). The bind must be refused with the error that says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { bindSocket } from '../../agent/runtime/sockets.js';
import { SlipwayError } from '../../common/errors.js';

const inUse = (err: unknown) => {
  assert.ok(err instanceof SlipwayError, String(err));
  assert.equal(err.code, 'SLIPWAY_ERR_HOST_SETUP');
  assert.match(err.message, /^cannot bind 127\.0\.0\.1:\d+ for listen "http": EADDRINUSE \(another process holds it/);
  return true;
};

test('a port another listener holds is refused with EADDRINUSE, never bound elsewhere', async () => {
  const other = net.createServer().listen(0, '127.0.0.1');
  await once(other, 'listening');
  const port = (other.address() as net.AddressInfo).port;
  try {
    await assert.rejects(bindSocket({ name: 'http', host: '127.0.0.1', port }), inUse);
  } finally {
    other.close();
  }
});

test('a port that is the local end of a connection is refused with EADDRINUSE', async () => {
  const server = net.createServer((s) => s.on('error', () => undefined)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  try {
    await assert.rejects(bindSocket({ name: 'http', host: '127.0.0.1', port: client.localPort! }), inUse);
  } finally {
    client.destroy();
    server.close();
  }
});

test('a free port is bound as asked, and port 0 gets one', async () => {
  const any = await bindSocket({ name: 'http', host: '127.0.0.1', port: 0 });
  assert.ok(any.port > 0);
  const port = any.port;
  any.close();
  const exact = await bindSocket({ name: 'http', host: '127.0.0.1', port });
  try {
    assert.equal(exact.port, port);
    const c = net.connect(port, '127.0.0.1');
    await once(c, 'connect'); // listening (the helper process made it so), on the port asked for
    c.destroy();
  } finally {
    exact.close();
  }
});
