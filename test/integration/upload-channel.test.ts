// The upload data port (agent/transport/data-port.ts): BeginUpload authorises, the
// bytes go over a TLS socket beside gRPC, and gRPC's Upload stays the
// fallback. Real agents, mTLS and signed releases (test/helpers/env.ts).
// Longer than ~300 lines on purpose: a few real agents and their data ports, shared by every case (start-up costs more than the cases).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { tempDir, newAgent, connect, signUpload, makeAppRepo, cli, cleanup, waitFor, testPki } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import { issue } from '../../coordinator/certs.js';
import type { AgentConnection, HostError, UploadMetaInput } from '../../coordinator/client.js';
import type { AgentClient } from '../../proto/gen/slipway/v1/Agent.js';
import type { UploadTicket__Output } from '../../proto/gen/slipway/v1/UploadTicket.js';

let dir: string;
let agent: LocalAgent; // the data port on
let brief: LocalAgent; // the data port on, tickets valid for 1 s (the expiry test only: elsewhere a loaded machine could outlast them)
let noPort: LocalAgent; // upload_listen: false
let elsewhere: LocalAgent; // the data port on an address the client does not dial
const started: LocalAgent[] = [];

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  dir = tempDir('upload-channel');
  agent = await newAgent(dir, { dir: join(dir, 'a1'), name: 'a1' });
  brief = await newAgent(dir, { dir: join(dir, 'a4'), name: 'a4', appBind: '127.0.77.4', extraConfig: 'upload_ticket_s: 1' });
  noPort = await newAgent(dir, { dir: join(dir, 'a2'), name: 'a2', appBind: '127.0.77.2', extraConfig: 'upload_listen: false' });
  elsewhere = await newAgent(dir, { dir: join(dir, 'a3'), name: 'a3', extraConfig: 'upload_listen: 127.0.0.2:0' });
  for (const a of [agent, noPort, elsewhere, brief]) {
    await a.start();
    started.push(a);
  }
});

after(async () => {
  for (const a of started) {
    await a.stop('SIGKILL');
    killAppsUnder(a.stateDir);
  }
  cleanup(dir);
});

/** A release file of random bytes and its signed meta. */
async function release(name: string, version: string, bytes = 3 << 20): Promise<{ file: string; meta: UploadMetaInput; body: Buffer }> {
  const body = randomBytes(bytes);
  const file = join(dir, name);
  writeFileSync(file, body);
  const meta = { app: 'hello', version, sha256: sha(body), size: body.length };
  return { file, body, meta: { ...meta, signature: await signUpload(dir, meta) } };
}

function beginUpload(conn: AgentConnection, meta: UploadMetaInput): Promise<UploadTicket__Output> {
  const client = (conn as unknown as { client: AgentClient }).client;
  const sig = meta.signature!;
  return new Promise((resolve, reject) => {
    client.BeginUpload({
      app: meta.app, version: meta.version, sha256: meta.sha256, size: meta.size,
      signature: Buffer.from(sig.signature, 'base64'), key_id: sig.key_id, manifest_sha256: sig.manifest_sha256,
    }, { deadline: Date.now() + 5000 }, (err, res) => (err || !res ? reject(err ?? new Error('no answer')) : resolve(res)));
  });
}

/**
 * A raw data connection: sends `header` and `body`, resolves with what the
 * agent answered (or '' and the error when the connection failed).
 */
async function raw(port: number, header: string, body: Buffer, cert: { cert: string; key: string } | null = null): Promise<{ answer: string; error?: string }> {
  const pki = await testPki(dir);
  const pair = cert === null ? { cert: pki.deployer.cert, key: pki.deployer.key } : cert;
  return new Promise((resolve) => {
    const sock = tlsConnect({
      host: '127.0.0.1', port, ca: readFileSync(pki.ca),
      ...(pair.cert ? { cert: readFileSync(pair.cert), key: readFileSync(pair.key) } : {}),
      checkServerIdentity: () => undefined,
    }, () => {
      sock.write(header);
      if (body.length) sock.write(body);
    });
    let answer = '';
    let error: string | undefined;
    sock.on('data', (d: Buffer) => { answer += d.toString(); });
    sock.on('error', (err) => { error = err.message; });
    sock.on('close', () => resolve({ answer, error }));
    sock.setTimeout(15_000, () => sock.destroy(new Error('test timeout')));
  });
}

function storeFiles(a: LocalAgent): string[] {
  try {
    return readdirSync(join(a.stateDir, 'apps', 'hello', 'store'));
  } catch {
    return [];
  }
}

test('an upload goes over the data port: bytes, digest, counters', async () => {
  const conn = connect(agent);
  try {
    const { file, body, meta } = await release('r1.bin', '1.0.0');
    const before = Number((await conn.status()).agent?.upload_bytes_total);
    const logged = agent.logged('upload received on the data port').length;
    let reported = 0;
    const res = await conn.upload(file, meta, (n) => { reported = n; });
    assert.equal(res.channel, 'data-port');
    assert.equal(res.fallback, undefined);
    assert.equal(res.already_stored, false);
    assert.equal(Number(res.bytes_received), body.length);
    assert.equal(res.sha256, meta.sha256);
    assert.equal(reported, body.length);
    await waitFor(() => agent.logged('upload received on the data port').length > logged, 'the data-port log line');
    const stored = readFileSync(join(agent.stateDir, 'apps', 'hello', 'store', `${meta.sha256}.tar.gz`));
    assert.equal(sha(stored), meta.sha256);
    const after = (await conn.status()).agent;
    assert.equal(Number(after?.upload_bytes_total) - before, body.length);
    assert.deepEqual(storeFiles(agent).filter((n) => n.startsWith('.tmp')), []);

    // Dedupe: BeginUpload answers already_stored, nothing is sent.
    const dedupBefore = Number(after?.uploads_deduplicated_total);
    let read = 0;
    const again = await conn.upload(file, meta, (n) => { read = n; });
    assert.equal(again.channel, 'stored');
    assert.equal(again.already_stored, true);
    assert.equal(Number(again.bytes_received), 0);
    assert.equal(read, 0);
    const st = (await conn.status()).agent;
    assert.equal(Number(st?.upload_bytes_total) - before, body.length, 'no bytes counted for the dedupe');
    assert.equal(Number(st?.uploads_deduplicated_total), dedupBefore + 1);
  } finally {
    conn.close();
  }
});

test('BeginUpload checks the meta as Upload does: a bad signature and a bad name are refused before any port is given', async () => {
  const conn = connect(agent);
  try {
    const { file, meta } = await release('r-bad.bin', '1.0.1', 1000);
    await assert.rejects(conn.upload(file, { ...meta, version: '1.0.2' }), /signature/i);
    await assert.rejects(conn.upload(file, { ...meta, app: '../etc' }), /app name "\.\.\/etc" is not valid/);
    // Bytes that do not match the announced sha256: refused on the data port, nothing stored.
    const wrong = join(dir, 'wrong.bin');
    writeFileSync(wrong, randomBytes(1000));
    await assert.rejects(conn.upload(wrong, meta), (err: HostError) => /not .* as announced; nothing was stored/.test(err.message) && err.status === 3 && err.code === 'SLIPWAY_ERR_UPLOAD_MISMATCH');
    // A file shorter than announced: the client says so, and never connects; the agent drops the upload
    // when its ticket expires (the brief agent's: 1 s).
    const short = join(dir, 'short.bin');
    writeFileSync(short, randomBytes(10));
    const briefConn = connect(brief);
    try {
      await assert.rejects(briefConn.upload(short, meta), /has 10 bytes, not the announced 1000/);
    } finally {
      briefConn.close();
    }
    await waitFor(() => storeFiles(brief).filter((n) => n.startsWith('.tmp')).length === 0, 'no temp files left');
    await waitFor(() => storeFiles(agent).filter((n) => n.startsWith('.tmp')).length === 0, 'no temp files left by the refused uploads');
  } finally {
    conn.close();
  }
});

test('a wrong, used or expired token, a bad header, and a token shown with another certificate are refused', async () => {
  const conn = connect(agent);
  try {
    const { body, meta } = await release('r2.bin', '2.0.0', 4096);
    const t = await beginUpload(conn, meta);
    assert.equal(t.already_stored, false);
    assert.match(t.token, /^[0-9a-f]{64}$/);
    assert.ok(t.port > 0);

    const wrong = await raw(t.port, `SLIPWAY-UPLOAD 1 ${'0'.repeat(64)}\n`, body);
    assert.equal(JSON.parse(wrong.answer).code, 'PERMISSION_DENIED', wrong.answer);
    assert.match(wrong.answer, /unknown, used or expired/);

    const bad = await raw(t.port, 'GET / HTTP/1.1\r\n', Buffer.alloc(0));
    assert.equal(JSON.parse(bad.answer).code, 'INVALID_ARGUMENT', bad.answer);
    const long = await raw(t.port, 'x'.repeat(500), Buffer.alloc(0));
    assert.equal(JSON.parse(long.answer).code, 'INVALID_ARGUMENT', long.answer);

    const ok = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body);
    assert.deepEqual(JSON.parse(ok.answer), { ok: true, sha256: meta.sha256, bytes_received: body.length });
    const used = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body);
    assert.equal(JSON.parse(used.answer).code, 'PERMISSION_DENIED', used.answer);

    // Expired: the brief agent's tickets last 1 s (upload_ticket_s: 1); the begun upload's temp file goes with it.
    const briefConn = connect(brief);
    try {
      const r3 = await release('r3.bin', '3.0.0', 4096);
      const expiredBefore = brief.logged('upload ticket expired').length;
      const t3 = await beginUpload(briefConn, r3.meta);
      await waitFor(() => brief.logged('upload ticket expired').length > expiredBefore, 'the ticket to expire', 10_000);
      const expired = await raw(t3.port, `SLIPWAY-UPLOAD 1 ${t3.token}\n`, r3.body);
      assert.equal(JSON.parse(expired.answer).code, 'PERMISSION_DENIED', expired.answer);
      await waitFor(() => storeFiles(brief).filter((n) => n.startsWith('.tmp')).length === 0, 'the expired upload\'s temp file removed');
      assert.ok(!storeFiles(brief).includes(`${r3.meta.sha256}.tar.gz`));
    } finally {
      briefConn.close();
    }

    // Another deployer certificate of the same CA: the token is bound to the one BeginUpload came with.
    const pki = await testPki(dir);
    const other = await issue(pki.dir, 'ci-2', 'deployer');
    const r4 = await release('r4.bin', '4.0.0', 4096);
    const t4 = await beginUpload(conn, r4.meta);
    const stolen = await raw(t4.port, `SLIPWAY-UPLOAD 1 ${t4.token}\n`, r4.body, { cert: other.cert, key: other.key });
    assert.equal(JSON.parse(stolen.answer).code, 'PERMISSION_DENIED', stolen.answer);
    assert.match(stolen.answer, /another client certificate/);
    assert.ok(!storeFiles(agent).includes(`${r4.meta.sha256}.tar.gz`));
  } finally {
    conn.close();
  }
});

test('the data port requires a deployer certificate: none, or one with the agent role, is refused', async () => {
  const conn = connect(agent);
  try {
    const { body, meta } = await release('r5.bin', '5.0.0', 4096);
    const t = await beginUpload(conn, meta);
    const none = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body, { cert: '', key: '' });
    assert.equal(none.answer, '', 'no answer without a certificate');
    assert.ok(none.error, 'the handshake failed');
    const pki = await testPki(dir);
    const agentCert = await pki.agentCert('not-a-deployer');
    const wrongRole = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body, agentCert);
    assert.equal(JSON.parse(wrongRole.answer).code, 'PERMISSION_DENIED', wrongRole.answer);
    assert.match(wrongRole.answer, /only a deployer certificate/);
    // The token was never read: the deployer can still use it.
    const ok = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body);
    assert.equal(JSON.parse(ok.answer).ok, true, ok.answer);
  } finally {
    conn.close();
  }
});

test('upload_listen: false: the client falls back to gRPC Upload, and a deploy works', async () => {
  const conn = connect(noPort);
  try {
    const { file, body, meta } = await release('r6.bin', '6.0.0');
    const res = await conn.upload(file, meta);
    assert.equal(res.channel, 'grpc');
    assert.match(res.fallback ?? '', /upload_listen: false/);
    assert.equal(Number(res.bytes_received), body.length);
    assert.equal(noPort.logged('upload received on the data port').length, 0);
    // The same release again over gRPC's Upload: answered at once as already stored.
    const again = await conn.upload(file, meta);
    assert.equal(again.already_stored, true);
    assert.equal(Number(again.bytes_received), 0);
    await waitFor(() => noPort.logged('upload skipped: release already stored').length === 1, 'the dedupe in the agent log');
  } finally {
    conn.close();
  }
  const repo = await makeAppRepo(dir, [noPort.address]);
  repo.release('1.0.0');
  const b = await cli(repo.dir, 'build', '1.0.0');
  assert.equal(b.code, 0, b.stderr);
  // The fallback is reported, not silent: on the progress lines, and in the JSON.
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.match(d.stderr, /sent over gRPC, not the data port: .*upload_listen: false/);
  repo.release('1.0.1');
  assert.equal((await cli(repo.dir, 'build', '1.0.1')).code, 0);
  const j = await cli(repo.dir, '--json', 'deploy', 'staging', '1.0.1');
  assert.equal(j.code, 0, j.stdout + j.stderr);
  const host = (JSON.parse(j.stdout) as { hosts: { upload: string; upload_channel: string; upload_fallback?: string }[] }).hosts[0]!;
  assert.equal(host.upload, 'sent');
  assert.equal(host.upload_channel, 'grpc');
  assert.match(host.upload_fallback ?? '', /upload_listen: false/);
});

test('a data port the client cannot reach: the upload falls back to gRPC', async () => {
  const conn = connect(elsewhere);
  try {
    const { file, body, meta } = await release('r7.bin', '7.0.0');
    const res = await conn.upload(file, meta);
    assert.equal(res.channel, 'grpc');
    // Usually ECONNREFUSED; another process that happens to listen on that port of 127.0.0.1 gives a TLS error instead.
    assert.match(res.fallback ?? '', new RegExp(`^data port ${elsewhereDataPort()}: `));
    assert.equal(Number(res.bytes_received), body.length);
    assert.equal(res.already_stored, false);
  } finally {
    conn.close();
  }
});

/** The port of a3's data port, from its 'agent listening' log line. */
function elsewhereDataPort(): number {
  const line = elsewhere.logLines.find((l) => l.includes('agent listening')) ?? '';
  return Number(/"upload":"127\.0\.0\.2:(\d+)"/.exec(line)?.[1]);
}

/** The sha256 fingerprint of the certificate a TLS port serves. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(s.getPeerX509Certificate()!.raw).fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

test('a renewed agent certificate is served on the data port after SIGHUP, and uploads go on', async () => {
  const conn = connect(agent);
  try {
    const { meta, body } = await release('r8.bin', '8.0.0', 4096);
    const t = await beginUpload(conn, meta);
    const before = await servedFingerprint(t.port);
    const pki = await testPki(dir);
    await issue(pki.dir, 'a1', 'agent', { hosts: ['localhost', '127.0.0.1'], force: true });
    const reloads = agent.logged('TLS certificate reloaded').length;
    process.kill(agent.child!.pid!, 'SIGHUP');
    await waitFor(() => agent.logged('TLS certificate reloaded').length > reloads, 'the reload');
    assert.notEqual(await servedFingerprint(t.port), before);
    const ok = await raw(t.port, `SLIPWAY-UPLOAD 1 ${t.token}\n`, body);
    assert.equal(JSON.parse(ok.answer).ok, true, ok.answer);
    // And through the client, which checks the new certificate as gRPC does.
    const r9 = await release('r9.bin', '9.0.0');
    assert.equal((await conn.upload(r9.file, r9.meta)).channel, 'data-port');
  } finally {
    conn.close();
  }
});
