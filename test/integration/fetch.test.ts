// The agent's download from an artifact store (agent/storage/download/),
// in-process against real HTTPS servers on loopback (a test CA): the bytes
// land in the store under the upload's rules; a connection the server cuts
// half-way is resumed with Range; a server that ignores Range has the held
// bytes skipped; HTTPS_PROXY is used through a real CONNECT proxy (NO_PROXY
// bypasses it); the auth header goes to the URL's origin and not after a
// redirect elsewhere; a wrong size, a 404 and an untrusted certificate are
// refused with what to do; nothing is left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { connect as netConnect, type Socket, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { tempDir, cleanup, testPki } from '../helpers/env.js';
import { ReleaseStore } from '../../agent/storage/store.js';
import { ReleaseFetcher, type FetchSettings } from '../../agent/storage/download/index.js';
import { SlipwayError } from '../../common/errors.js';

const dir = tempDir('fetch');
const body = randomBytes(3 << 20);
const sha256 = createHash('sha256').update(body).digest('hex');
const req = { app: 'hello', version: '1.0.0', sha256, size: body.length };
let ca: Buffer;
let origin: HttpsServer;
let other: HttpsServer; // another origin (127.0.0.2), for the redirect
let proxy: Server;
const sockets = new Set<Socket>();
let originUrl = '';
let proxyUrl = '';
const seen: { path: string; range?: string; auth?: string }[] = [];
let proxied = 0;
let cutOnce = true;

/** The store: /rel serves the body with Range; /cut cuts the first response (after cutOnce is set) half-way; /norange too, and ignores Range; /redirect goes to another origin. */
function handle(q: IncomingMessage, res: ServerResponse): void {
  seen.push({ path: q.url ?? '', range: q.headers.range, auth: q.headers.authorization });
  const range = /^bytes=(\d+)-$/.exec(q.headers.range ?? '');
  const path = q.url ?? '';
  if (path === '/redirect') {
    res.writeHead(302, { location: `https://127.0.0.2:${(other.address() as AddressInfo).port}/rel` });
    return void res.end();
  }
  if (path === '/short') {
    res.writeHead(200, { 'content-length': 100 });
    return void res.end(body.subarray(0, 100));
  }
  if (!['/rel', '/cut', '/norange'].includes(path)) {
    res.writeHead(404);
    return void res.end('not here');
  }
  if (range && path !== '/norange') {
    const start = Number(range[1]);
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    return void res.end(body.subarray(start));
  }
  res.writeHead(200, { 'content-length': body.length });
  if ((path === '/cut' || path === '/norange') && cutOnce) {
    cutOnce = false;
    res.write(body.subarray(0, 1 << 20), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

before(async () => {
  const pki = await testPki(dir);
  const cert = await pki.agentCert('store', ['127.0.0.1', '127.0.0.2', 'localhost']);
  ca = readFileSync(pki.ca);
  origin = createHttpsServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, handle);
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  other = createHttpsServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, handle);
  await new Promise<void>((r) => other.listen(0, '127.0.0.2', r));
  for (const srv of [origin, other]) srv.on('connection', (c: Socket) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
  originUrl = `https://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  // A CONNECT proxy: what HTTPS_PROXY names.
  proxy = createHttpServer();
  proxy.on('connect', (q: IncomingMessage, client: Socket, head: Buffer) => {
    proxied++;
    sockets.add(client);
    const [host, port] = (q.url ?? '').split(':');
    const up = netConnect(Number(port), host, () => {
      sockets.add(up);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(() => {
  for (const srv of [origin, other, proxy]) srv.close();
  for (const c of sockets) c.destroy();
  cleanup(dir);
});

let n = 0;
function fetcher(extra: Partial<FetchSettings> = {}): { fetcher: ReleaseFetcher; stateDir: string } {
  const stateDir = join(dir, `state${++n}`);
  mkdirSync(stateDir, { recursive: true });
  const log = pino({ level: 'silent' });
  const store = new ReleaseStore({ stateDir, maxBytes: 1 << 30, log });
  const settings: FetchSettings = { ca, connectMs: 5000, stallMs: 10_000, attempts: 3, backoffMs: () => 10, env: {}, ...extra };
  return { fetcher: new ReleaseFetcher(store, () => settings, log), stateDir };
}

function storeFiles(stateDir: string): string[] {
  const d = join(stateDir, 'apps', 'hello', 'store');
  return existsSync(d) ? readdirSync(d) : [];
}

const never = new AbortController().signal;

test('a fetch lands in the store, checked; a second one is deduplicated', async () => {
  const { fetcher: f, stateDir } = fetcher();
  const progress: number[] = [];
  const out = await f.fetch(req, `${originUrl}/rel`, (p) => progress.push(p.received), never);
  assert.equal(out.alreadyStored, false);
  assert.equal(out.downloaded, body.length);
  assert.equal(progress.at(-1), body.length);
  assert.ok(readFileSync(join(stateDir, 'apps', 'hello', 'store', `${sha256}.tar.gz`)).equals(body));
  const again = await f.fetch(req, `${originUrl}/rel`, () => {}, never);
  assert.equal(again.alreadyStored, true);
});

test('a response cut half-way is resumed with a Range from the bytes held', async () => {
  const { fetcher: f, stateDir } = fetcher();
  seen.length = 0;
  const out = await f.fetch(req, `${originUrl}/cut`, () => {}, never);
  assert.equal(out.resumes, 1);
  const ranged = seen.filter((s) => s.path === '/cut' && s.range);
  assert.equal(ranged.length, 1);
  assert.match(ranged[0].range ?? '', /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(ranged[0].range ?? '')?.[0]) > 0);
  assert.ok(readFileSync(join(stateDir, 'apps', 'hello', 'store', `${sha256}.tar.gz`)).equals(body));
});

test('a store that ignores Range: the bytes already held are skipped', async () => {
  const { fetcher: f, stateDir } = fetcher();
  cutOnce = true;
  seen.length = 0;
  const out = await f.fetch(req, `${originUrl}/norange`, () => {}, never);
  assert.equal(out.resumes, 1);
  assert.ok(seen.some((x) => x.path === '/norange' && x.range), 'the second request asked for a Range');
  assert.ok(out.downloaded > body.length, 'the whole body came again, and the held part was skipped');
  assert.ok(readFileSync(join(stateDir, 'apps', 'hello', 'store', `${sha256}.tar.gz`)).equals(body));
});

test('HTTPS_PROXY is used through CONNECT; NO_PROXY bypasses it', async () => {
  proxied = 0;
  await fetcher({ env: { HTTPS_PROXY: proxyUrl } }).fetcher.fetch(req, `${originUrl}/rel`, () => {}, never);
  assert.equal(proxied, 1);
  await fetcher({ env: { HTTPS_PROXY: proxyUrl, NO_PROXY: 'example.com,127.0.0.1' } }).fetcher.fetch(req, `${originUrl}/rel`, () => {}, never);
  assert.equal(proxied, 1, 'NO_PROXY named the host');
});

test('the auth header goes to the URL\'s origin, not after a redirect to another', async () => {
  seen.length = 0;
  await fetcher({ authHeader: ['authorization', 'Bearer s3cret'] }).fetcher.fetch(req, `${originUrl}/redirect`, () => {}, never);
  assert.equal(seen[0].path, '/redirect');
  assert.equal(seen[0].auth, 'Bearer s3cret');
  assert.equal(seen[1].path, '/rel');
  assert.equal(seen[1].auth, undefined, 'the other origin (127.0.0.2) got no header');
});

test('refusals: a 404 says to publish, a wrong size and an untrusted certificate say what is wrong; nothing is left', async () => {
  const a = fetcher();
  await assert.rejects(a.fetcher.fetch(req, `${originUrl}/nothing`, () => {}, never),
    (e: SlipwayError) => e.code === 'SLIPWAY_ERR_STORE_FETCH' && /404/.test(e.message) && /slipway publish/.test(e.message));
  await assert.rejects(a.fetcher.fetch(req, `${originUrl}/short`, () => {}, never),
    (e: SlipwayError) => e.code === 'SLIPWAY_ERR_UPLOAD_MISMATCH' && /serves 100 bytes/.test(e.message));
  const b = fetcher({ ca: undefined });
  await assert.rejects(b.fetcher.fetch(req, `${originUrl}/rel`, () => {}, never),
    (e: SlipwayError) => e.code === 'SLIPWAY_ERR_STORE_FETCH' && /fetch\.ca/.test(e.message));
  await assert.rejects(b.fetcher.fetch(req, 'http://example.com/x.tar.gz', () => {}, never),
    (e: SlipwayError) => e.code === 'SLIPWAY_ERR_STORE_FETCH' && /plain http/.test(e.message));
  assert.deepEqual(storeFiles(a.stateDir), []);
  assert.deepEqual(storeFiles(b.stateDir), []);
});
