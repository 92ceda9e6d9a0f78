// A data-port upload cut off half-way is resumed: the agent keeps the temp
// file and running hash of the cut-off upload for upload_ticket_s, and the
// same client's next BeginUpload of that release answers with the offset of
// the bytes it holds (UploadTicket.offset); the rest completes the release,
// sha256 checked as ever. Another client certificate gets a fresh upload.
// A real agent (mTLS, signed releases) and real TLS connections to its data port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { tempDir, newAgent, connect, signUpload, cleanup, waitFor, testPki } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import { formatRequest } from '../../common/upload-protocol.js';
import type { AgentConnection } from '../../coordinator/client.js';
import type { AgentClient } from '../../proto/gen/slipway/v1/Agent.js';
import type { UploadTicket__Output } from '../../proto/gen/slipway/v1/UploadTicket.js';

let dir: string;
let agent: LocalAgent;
let conn: AgentConnection;

before(async () => {
  dir = tempDir('upload-resume');
  agent = await newAgent(dir, { dir: join(dir, 'a1'), name: 'a1', extraConfig: 'upload_ticket_s: 120' });
  await agent.start();
  conn = connect(agent);
});

after(async () => {
  conn.close();
  await agent.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  cleanup(dir);
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function beginUpload(meta: { app: string; version: string; sha256: string; size: number }): Promise<UploadTicket__Output> {
  const client = (conn as unknown as { client: AgentClient }).client;
  const sig = await signUpload(dir, meta);
  return new Promise((resolve, reject) => {
    client.BeginUpload({ ...meta, signature: Buffer.from(sig.signature, 'base64'), key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 },
      { deadline: Date.now() + 10_000 }, (err, res) => (err || !res ? reject(err ?? new Error('no answer')) : resolve(res)));
  });
}

async function dataConnection(port: number): Promise<TLSSocket> {
  const pki = await testPki(dir);
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({
      host: '127.0.0.1', port, ca: readFileSync(pki.ca), cert: readFileSync(pki.deployer.cert), key: readFileSync(pki.deployer.key),
      checkServerIdentity: () => undefined,
    }, () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Sends the request line and bytes, then waits for the agent's answer line. */
function send(sock: TLSSocket, token: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    sock.on('data', (d: Buffer) => { answer += d.toString(); });
    sock.on('close', () => resolve(answer));
    sock.write(formatRequest(token));
    sock.write(bytes);
  });
}

test('a data connection cut half-way: the next BeginUpload resumes from the bytes the agent holds', async () => {
  const body = randomBytes(6 << 20);
  const meta = { app: 'hello', version: '3.0.0', sha256: sha(body), size: body.length };
  const first = await beginUpload(meta);
  assert.equal(Number(first.offset), 0);
  const sock = await dataConnection(first.port);
  sock.write(formatRequest(first.token));
  await new Promise<void>((r) => sock.write(body.subarray(0, 2 << 20), () => r()));
  sock.destroy(); // the cut
  await waitFor(() => agent.logged('kept for a resume').length > 0, 'the agent to keep the cut-off upload');

  const again = await beginUpload(meta);
  const offset = Number(again.offset);
  assert.ok(offset > 0 && offset <= 2 << 20, `offset ${offset}: the bytes the agent received before the cut`);
  assert.ok(agent.logged('upload resumed from the bytes already received').length > 0);
  const answer = JSON.parse(await send(await dataConnection(again.port), again.token, body.subarray(offset))) as { ok: boolean; sha256: string; bytes_received: number };
  assert.deepEqual(answer, { ok: true, sha256: meta.sha256, bytes_received: meta.size });
  assert.ok(existsSync(join(agent.stateDir, 'apps', 'hello', 'store', `${meta.sha256}.tar.gz`)));
  assert.equal(sha(readFileSync(join(agent.stateDir, 'apps', 'hello', 'store', `${meta.sha256}.tar.gz`))), meta.sha256);
});

test('a resumed upload whose rest is not the release is refused by the sha256, and nothing is stored', async () => {
  const body = randomBytes(3 << 20);
  const meta = { app: 'hello', version: '3.0.1', sha256: sha(body), size: body.length };
  const first = await beginUpload(meta);
  const sock = await dataConnection(first.port);
  sock.write(formatRequest(first.token));
  await new Promise<void>((r) => sock.write(body.subarray(0, 1 << 20), () => r()));
  const before = agent.logged('kept for a resume').length;
  sock.destroy();
  await waitFor(() => agent.logged('kept for a resume').length > before, 'the agent to keep the cut-off upload');
  const again = await beginUpload(meta);
  const offset = Number(again.offset);
  assert.ok(offset > 0);
  const answer = JSON.parse(await send(await dataConnection(again.port), again.token, randomBytes(meta.size - offset))) as { ok: boolean; error_code?: string };
  assert.equal(answer.ok, false);
  assert.equal(answer.error_code, 'SLIPWAY_ERR_UPLOAD_MISMATCH');
  assert.ok(!existsSync(join(agent.stateDir, 'apps', 'hello', 'store', `${meta.sha256}.tar.gz`)));
});
