// agent/transport/health.ts on a real grpc-js server on loopback, asked by the STOCK
// grpc-health-check package's client definition: the wire format is the
// standard grpc.health.v1 one. Every wait is on a message or an event, or
// polls; nothing rests on timer order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { on, once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as stockHealthService, protoPath as stockProtoPath } from 'grpc-health-check';
import { HealthStatus } from '../../agent/transport/health.js';
import { HealthClientCtor } from '../../proto/health.js';

interface Reply { status: string }
type Client = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: Reply) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<Reply>;
  list(req: object, cb: (err: grpc.ServiceError | null, res?: { statuses: Record<string, Reply> }) => void): void;
};

let server: grpc.Server;
let health: HealthStatus;
let client: Client;
let address: string;

before(async () => {
  health = new HealthStatus({ '': 'SERVING', 'test.Svc': 'SERVING' });
  server = new grpc.Server();
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  address = `127.0.0.1:${port}`;
  const Stock = grpc.makeClientConstructor(stockHealthService, 'grpc.health.v1.Health');
  client = new Stock(address, grpc.credentials.createInsecure()) as unknown as Client;
});

after(() => {
  client.close();
  server.forceShutdown();
});

function check(c: Client, service: string): Promise<{ status?: string; code?: number }> {
  return new Promise((resolve) => c.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res?.status })));
}

/** Polls `fn` until it is true (every 10 ms, 10 s at most). */
async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A Watch call with its messages in order; `cancel` ends it and waits until the server has let go of it. */
function watch(service: string): { next(): Promise<string>; cancel(): Promise<void> } {
  const call = client.watch({ service });
  const ac = new AbortController();
  const messages = on(call, 'data', { signal: ac.signal });
  return {
    async next() {
      const { value, done } = await messages.next();
      assert.ok(!done, 'the watch call is still open');
      return (value as [Reply])[0].status;
    },
    async cancel() {
      const ended = once(call, 'error');
      ac.abort();
      call.cancel();
      const [err] = (await ended) as [grpc.ServiceError];
      assert.equal(err.code, grpc.status.CANCELLED);
    },
  };
}

test('Check: SERVING for the server and a set service, NOT_FOUND for an unknown one', async () => {
  assert.deepEqual(await check(client, ''), { status: 'SERVING' });
  assert.deepEqual(await check(client, 'test.Svc'), { status: 'SERVING' });
  assert.deepEqual(await check(client, 'no.such.Service'), { code: grpc.status.NOT_FOUND });
});

test('Watch: the current status at once, then each change (not a repeat); cancelling leaves no listener', async () => {
  const w = watch('test.Svc');
  assert.equal(await w.next(), 'SERVING');
  assert.equal(health.watching, 1);
  health.setStatus('test.Svc', 'NOT_SERVING');
  assert.equal(await w.next(), 'NOT_SERVING');
  assert.deepEqual(await check(client, 'test.Svc'), { status: 'NOT_SERVING' });
  health.setStatus('test.Svc', 'NOT_SERVING'); // no change: no message
  health.setStatus('test.Svc', 'SERVING');
  assert.equal(await w.next(), 'SERVING', 'the repeat sent nothing; the next message is the change');
  await w.cancel();
  await until(() => health.watching === 0, 'the server to drop the cancelled watch');
});

test('Watch: SERVICE_UNKNOWN for an unknown service, the call stays open and hears when it becomes known', async () => {
  const w = watch('later.Svc');
  const other = watch('later.Svc');
  assert.equal(await w.next(), 'SERVICE_UNKNOWN');
  assert.equal(await other.next(), 'SERVICE_UNKNOWN');
  health.setStatus('later.Svc', 'SERVING');
  assert.equal(await w.next(), 'SERVING');
  assert.equal(await other.next(), 'SERVING');
  await other.cancel();
  await until(() => health.watching === 1, 'the server to drop one of two watches');
  health.setStatus('later.Svc', 'NOT_SERVING');
  assert.equal(await w.next(), 'NOT_SERVING', 'the remaining watch still hears');
  await w.cancel();
  await until(() => health.watching === 0, 'the server to drop the last watch');
});

test('a watch ends when its server is shut down by force (as agent.stop does after 5 s): no listener is left', async () => {
  const second = new grpc.Server();
  health.addToServer(second);
  const port = await new Promise<number>((resolve, reject) =>
    second.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const Stock = grpc.makeClientConstructor(stockHealthService, 'grpc.health.v1.Health');
  const own = new Stock(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    const call = own.watch({ service: 'test.Svc' });
    const ended = once(call, 'error');
    const watching = health.watching;
    await once(call, 'data');
    assert.equal(health.watching, watching + 1);
    second.forceShutdown();
    await ended;
    await until(() => health.watching === watching, 'the server to drop the watch of its closed connection');
  } finally {
    own.close();
  }
});

test('List: every service with its status', async () => {
  const res = await new Promise<{ statuses: Record<string, Reply> }>((resolve, reject) =>
    client.list({}, (err, r) => (err || !r ? reject(err ?? new Error('no reply')) : resolve(r))));
  assert.deepEqual(Object.keys(res.statuses).sort(), ['', 'later.Svc', 'test.Svc']);
  assert.equal(res.statuses[''].status, 'SERVING');
});

test('our own client constructor (proto/health.ts, as the CLI uses it) speaks to the server', async () => {
  const ours = new HealthClientCtor(address, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    assert.deepEqual(await check(ours, ''), { status: 'SERVING' });
    assert.deepEqual(await check(ours, 'no.such.Service'), { code: grpc.status.NOT_FOUND });
  } finally {
    ours.close();
  }
});

test('the build-time dist/proto/health.json describes the stock health.proto', { skip: !existsSync('dist/proto/health.json') && 'run npm run build first' }, () => {
  const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;
  const fromProto = protoLoader.loadSync(stockProtoPath, OPTIONS);
  const fromJson = protoLoader.fromJSON(JSON.parse(readFileSync('dist/proto/health.json', 'utf8')) as Record<string, unknown>, OPTIONS);
  assert.deepEqual(Object.keys(fromJson).sort(), Object.keys(fromProto).sort());
  const methods = (def: protoLoader.PackageDefinition) => Object.entries(def['grpc.health.v1.Health'] as protoLoader.ServiceDefinition)
    .map(([name, m]) => [name, m.path, m.requestStream, m.responseStream]);
  assert.deepEqual(methods(fromJson), methods(fromProto));
});
