// mTLS with real certificates (made by slipway certs through openssl) and a
// real agent: every refusal the issue lists, and the words the operator sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { readFileSync, copyFileSync, writeFileSync } from 'node:fs';
import { connect, createServer as createTlsServer } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { tempDir, cleanup, cli, waitFor } from '../helpers/env.js';
import { LocalAgent, killAppsUnder } from '../../scripts/local-fleet.js';
import { makePki, type Pki } from '../../scripts/pki.js';
import { initCa, issue } from '../../coordinator/certs.js';
import { AgentClientCtor } from '../../proto/load.js';
import { explainTlsFailure } from '../../coordinator/tls-probe.js';
import type { AgentClient } from '../../proto/gen/slipway/v1/Agent.js';

let dir: string;
let pki: Pki;
let agent: LocalAgent;
let agentFiles: { ca: string; cert: string; key: string };

function raw(creds: grpc.ChannelCredentials, address = agent.address): AgentClient {
  return new AgentClientCtor(address, creds, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as AgentClient;
}

function status(client: AgentClient): Promise<{ code?: number; details?: string; ok?: boolean }> {
  return new Promise((resolve) => {
    client.Status({ app: '' }, { deadline: Date.now() + 5000 }, (err) => resolve(err ? { code: err.code, details: err.details } : { ok: true }));
  });
}

function writeRepo(sub: string, tls: string, host = agent.address): string {
  const d = join(dir, sub);
  cleanup(d);
  const yaml = [
    'app: hello', 'build: { include: [server.js] }', 'run: { command: [node, server.js] }',
    'environments:', `  staging: { hosts: [${host}] }`, `tls: ${tls}`, 'deadline_s: 5', '',
  ].join('\n');
  writeFileSync(join(dir, `${sub}.yaml`), yaml);
  return join(dir, `${sub}.yaml`);
}

before(async () => {
  dir = tempDir('mtls');
  pki = await makePki(join(dir, 'pki'));
  const a = await pki.agentCert('agent1', ['localhost', '127.0.0.1']);
  agentFiles = { ca: a.ca, cert: join(dir, 'agent.pem'), key: join(dir, 'agent-key.pem') };
  copyFileSync(a.cert, agentFiles.cert);
  copyFileSync(a.key, agentFiles.key);
  agent = new LocalAgent({ dir: join(dir, 'agent1'), name: 'agent1', tls: agentFiles, trustedKeys: [pki.signing.public] });
  await agent.start();
});

after(async () => {
  await agent?.stop('SIGKILL');
  if (agent) killAppsUnder(agent.stateDir);
  cleanup(dir);
});

test('a deployer certificate from the CA works (slipway status over mTLS)', async () => {
  const file = writeRepo('ok', pki.coordinatorTls);
  const r = await cli(dir, '-c', file, 'status', 'staging', '--json');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, /DEP0123|Warning/);
});

test('no client certificate: the TLS handshake is refused, and the probe says why', async () => {
  const res = await status(raw(grpc.credentials.createSsl(readFileSync(pki.ca))));
  assert.equal(res.code, grpc.status.UNAVAILABLE, JSON.stringify(res));
});

test('a certificate from another CA is refused by the agent; the coordinator names the mismatch before dialling', async () => {
  const other = join(dir, 'other-ca');
  await initCa(other, { name: 'someone else' });
  const stranger = await issue(other, 'ci-1', 'deployer');
  const res = await status(raw(grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(stranger.key), readFileSync(stranger.cert))));
  assert.equal(res.code, grpc.status.UNAVAILABLE, JSON.stringify(res));
  // With the agent's CA as tls.ca, our own pair does not check out locally:
  const r = await cli(dir, '-c', writeRepo('stranger', `{ ca: ${pki.ca}, cert: ${stranger.cert}, key: ${stranger.key} }`), 'status', 'staging');
  assert.equal(r.code, 2, 'our own credentials are config: exit 2');
  assert.match(r.stderr, /was not signed by the CA in/);
  // With the other CA as tls.ca (the coordinator lives in another PKI), the agent's refusal is named:
  const why = await explainTlsFailure(agent.address, { ca: stranger.ca, cert: stranger.cert, key: stranger.key });
  assert.match(why ?? '', /not signed by our CA/);
});

test('an expired deployer certificate: named with its date by the coordinator, refused by the agent', async () => {
  const day = 86_400_000;
  const old = await issue(pki.dir, 'old-ci', 'deployer', { validity: { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) } });
  const r = await cli(dir, '-c', writeRepo('expired', `{ ca: ${pki.ca}, cert: ${old.cert}, key: ${old.key} }`), 'status', 'staging');
  assert.equal(r.code, 2, 'our own credentials are config: exit 2');
  assert.match(r.stderr, /certificate for deployer old-ci expired on \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
  const res = await status(raw(grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(old.key), readFileSync(old.cert))));
  assert.equal(res.code, grpc.status.UNAVAILABLE, JSON.stringify(res));
  const why = await explainTlsFailure(agent.address, { ca: pki.ca, cert: old.cert, key: old.key });
  assert.match(why ?? '', /did not accept our certificate: our certificate has expired/);
});

test('an agent certificate used as a client gets PERMISSION_DENIED naming the role; the handler never runs', async () => {
  const other = await pki.agentCert('agent2', ['127.0.0.9']);
  const res = await status(raw(grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(other.key), readFileSync(other.cert))));
  assert.equal(res.code, grpc.status.PERMISSION_DENIED, JSON.stringify(res));
  assert.match(res.details ?? '', /certificate "agent2" has role agent; only a deployer certificate may call this agent/);
  await waitFor(() => agent.logged('without the deployer role').length > 0, 'the refusal in the agent log');
  // The CLI refuses to use it in the first place.
  const r = await cli(dir, '-c', writeRepo('agentrole', `{ ca: ${pki.ca}, cert: ${other.cert}, key: ${other.key} }`), 'status', 'staging');
  assert.equal(r.code, 2, 'our own credentials are config: exit 2');
  assert.match(r.stderr, /has role agent; agents accept only deployer certificates/);
});

test('the agent presents a certificate for another name: the coordinator says which', async () => {
  // Dial the agent as 127.0.0.1, with a certificate issued for 10.0.0.6 only.
  const wrong = await pki.agentCert('agent-wrong', ['10.0.0.6']);
  const wrongAgent = new LocalAgent({ dir: join(dir, 'agent-wrong'), name: 'agent-wrong', tls: { ca: pki.ca, cert: wrong.cert, key: wrong.key }, trustedKeys: [pki.signing.public] });
  await wrongAgent.start();
  try {
    const r = await cli(dir, '-c', writeRepo('wrongname', pki.coordinatorTls, wrongAgent.address), 'status', 'staging');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /agent 127\.0\.0\.1 presented a certificate for 10\.0\.0\.6/);
    assert.doesNotMatch(r.stdout + r.stderr, /UNAVAILABLE|No connection established/);
  } finally {
    await wrongAgent.stop('SIGKILL');
    killAppsUnder(wrongAgent.stateDir);
  }
});

test('a deployer certificate presented by an "agent" is refused by the coordinator (role agent required)', async () => {
  const fake = await issue(pki.dir, 'impostor', 'deployer');
  // A real agent refuses to start with it (its start checks the role, as --check does: agent-start.test.ts),
  // so the impostor is a plain TLS server presenting it, as a host that is not ours might.
  const server = createTlsServer({ cert: readFileSync(fake.cert), key: readFileSync(fake.key), ca: readFileSync(pki.ca), requestCert: true, ALPNProtocols: ['h2'] }, (sock) => sock.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const r = await cli(dir, '-c', writeRepo('impostor', pki.coordinatorTls, address), 'status', 'staging');
    assert.equal(r.code, 1);
    // OpenSSL's purpose check (no serverAuth) comes before our role check; either way the words name it.
    assert.match(r.stdout + r.stderr, /not a server certificate .*is it an agent certificate\?/);
    assert.doesNotMatch(r.stdout + r.stderr, /UNAVAILABLE|No connection established/);
  } finally {
    server.close();
  }
});

function servedFingerprint(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: '127.0.0.1', port: Number(address.split(':')[1]), ca: readFileSync(pki.ca), cert: readFileSync(pki.deployer.cert), key: readFileSync(pki.deployer.key),
      ALPNProtocols: ['h2'], servername: 'localhost',
    }, () => {
      resolve(new X509Certificate(s.getPeerX509Certificate()!.raw).fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

test('renewed certificate files are served after SIGHUP without a restart; a broken pair is refused and the old one kept', async () => {
  const before = await servedFingerprint(agent.address);
  const pid = agent.child!.pid!;
  // A broken renewal (key of another certificate): logged, old pair kept.
  const other = await pki.agentCert('agent1-mismatch');
  copyFileSync(other.key, agentFiles.key);
  process.kill(pid, 'SIGHUP');
  await waitFor(() => agent.logged('TLS certificate files not reloaded').length > 0, 'the refusal of a mismatched pair');
  assert.equal(await servedFingerprint(agent.address), before);
  // The real renewal.
  const renewed = await issue(pki.dir, 'agent1', 'agent', { hosts: ['localhost', '127.0.0.1'], force: true });
  copyFileSync(renewed.cert, agentFiles.cert);
  copyFileSync(renewed.key, agentFiles.key);
  process.kill(pid, 'SIGHUP');
  await waitFor(() => agent.logged('TLS certificate reloaded').length > 0, 'the reload');
  const after = await servedFingerprint(agent.address);
  assert.notEqual(after, before);
  assert.equal(agent.child!.pid, pid);
  const r = await cli(dir, '-c', writeRepo('renewed', pki.coordinatorTls), 'status', 'staging', '--json');
  assert.equal(r.code, 0, r.stderr);
});
