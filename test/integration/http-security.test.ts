// The agent's HTTP endpoint beyond loopback: HTTPS with the agent's
// certificate, and a bearer token for /status and /metrics (/healthz open).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup } from '../helpers/env.js';
import { LocalAgent, killAppsUnder } from '../../scripts/local-fleet.js';
import { makePki, type Pki } from '../../scripts/pki.js';

let dir: string;
let pki: Pki;
let agent: LocalAgent;
const TOKEN = 'a'.repeat(12) + 'b'.repeat(20);

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; issuer?: string }> {
  const port = Number(agent.httpAddress.slice(agent.httpAddress.lastIndexOf(':') + 1));
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, headers, ca: readFileSync(pki.ca), servername: 'localhost', agent: false }, (res) => {
      let body = '';
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, issuer: cert?.subject?.CN as string | undefined }));
    }).on('error', reject);
  });
}

before(async () => {
  dir = tempDir('httpsec');
  pki = await makePki(join(dir, 'pki'));
  const c = await pki.agentCert('agent1', ['localhost', '127.0.0.1']);
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  // Bound on every interface: TLS is the default there.
  agent = new LocalAgent({
    dir: join(dir, 'agent1'), name: 'agent1', http: '0.0.0.0:0', tls: { ca: pki.ca, cert: c.cert, key: c.key }, trustedKeys: [pki.signing.public],
    extraConfig: `http_token_file: ${join(dir, 'token')}`,
  });
  await agent.start();
});

after(async () => {
  await agent?.stop('SIGKILL');
  if (agent) killAppsUnder(agent.stateDir);
  cleanup(dir);
});

test('beyond loopback the endpoint serves HTTPS with the agent\'s certificate; plain HTTP gets nothing', async () => {
  assert.ok(agent.logged('"http_scheme":"https"').length > 0);
  const r = await get('/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.issuer, 'agent1');
  const port = Number(agent.httpAddress.slice(agent.httpAddress.lastIndexOf(':') + 1));
  await assert.rejects(new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 3000 }, resolve).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  }));
});

test('/status and /metrics need the bearer token; /healthz and /readyz do not', async () => {
  for (const path of ['/status', '/metrics']) {
    const none = await get(path);
    assert.equal(none.status, 401, path);
    assert.match(none.body, /needs Authorization: Bearer/);
    assert.equal((await get(path, { Authorization: 'Bearer wrong-token-of-some-length' })).status, 401);
    const ok = await get(path, { Authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200, path);
  }
  assert.match((await get('/metrics', { Authorization: `Bearer ${TOKEN}` })).body, /slipway_/);
  // The open routes say up or down and nothing else: no app names, states, versions.
  const ready = await get('/readyz');
  assert.notEqual(ready.status, 401);
  assert.deepEqual(Object.keys(JSON.parse(ready.body) as object), ['ready']);
  assert.deepEqual(JSON.parse((await get('/healthz')).body), { status: 'ok' });
});
