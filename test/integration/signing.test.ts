// Signed releases through a real agent over mTLS: slipway build signs,
// deploy sends the signature, the agent checks it against trusted_keys
// before anything is stored, and the manifest digest when it unpacks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, cli, makeAppRepo, testPki, type AppRepo } from '../helpers/env.js';
import { LocalAgent, killAppsUnder } from '../../scripts/local-fleet.js';
import type { Pki } from '../../scripts/pki.js';
import { AgentConnection } from '../../coordinator/client.js';
import { generateSigningKey, readPrivateKey, signRelease, sha256Hex, type ReleaseSignature } from '../../common/signing.js';
import { createHash } from 'node:crypto';

let dir: string;
let pki: Pki;
let agent: LocalAgent;
let repo: AppRepo;
let conn: AgentConnection;

const tarball = (v: string) => join(repo.dir, '.slipway', 'releases', `hello-${v}.tar.gz`);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const storeFiles = () => {
  const d = join(agent.stateDir, 'apps', 'hello', 'store');
  return existsSync(d) ? readdirSync(d) : [];
};

function upload(file: string, sig: ReleaseSignature | undefined, version: string, overrides: { sha256?: string } = {}) {
  return conn.upload(file, {
    app: 'hello', version, sha256: overrides.sha256 ?? sha(file), size: statSync(file).size,
    signature: sig && { signature: sig.signature, key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 },
  });
}

before(async () => {
  dir = tempDir('signing');
  pki = await testPki(dir);
  const cert = await pki.agentCert('agent1');
  agent = new LocalAgent({ dir: join(dir, 'agent1'), name: 'agent1', tls: { ca: pki.ca, cert: cert.cert, key: cert.key }, trustedKeys: [pki.signing.public] });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  const yaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8').replace(/^signing_key: .*\n/m, '');
  writeFileSync(join(repo.dir, 'slipway.yaml'), `${yaml}signing_key: ${pki.signing.private}\n`);
  writeFileSync(join(repo.dir, 'unsigned.yaml'), yaml);
  conn = new AgentConnection(agent.address, { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key }, 10_000);
});

after(async () => {
  conn?.close();
  await agent?.stop('SIGKILL');
  if (agent) killAppsUnder(agent.stateDir);
  cleanup(dir);
});

test('slipway build signs (tarball.sig with the key id), deploy sends it, the agent stores and runs it', async () => {
  repo.release('1.0.0');
  const b = await cli(repo.dir, 'build', '1.0.0');
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, new RegExp(`signed with key ${pki.signing.keyId}`));
  const sig = JSON.parse(readFileSync(`${tarball('1.0.0')}.sig`, 'utf8')) as ReleaseSignature;
  assert.equal(sig.key_id, pki.signing.keyId);
  assert.equal(sig.sha256, sha(tarball('1.0.0')));
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const meta = JSON.parse(readFileSync(join(agent.stateDir, 'apps', 'hello', 'store', `${sig.sha256}.json`), 'utf8')) as { key_id: string; manifest_sha256: string };
  assert.equal(meta.key_id, pki.signing.keyId);
  assert.equal(meta.manifest_sha256, sig.manifest_sha256);
});

test('an unsigned release is refused before anything is stored', async () => {
  repo.release('1.1.0');
  const b = await cli(repo.dir, '-c', 'unsigned.yaml', 'build', '1.1.0');
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /not signed \(no signing_key/);
  assert.equal(existsSync(`${tarball('1.1.0')}.sig`), false);
  const before = storeFiles();
  const d = await cli(repo.dir, '-c', 'unsigned.yaml', 'deploy', 'staging', '1.1.0');
  assert.equal(d.code, 1);
  assert.match(d.stdout + d.stderr, /release hello 1\.1\.0 is not signed, and this agent accepts only releases signed by a trusted key/);
  assert.deepEqual(storeFiles(), before);
});

test('a tampered tarball (one bit flipped): the coordinator notices, and the agent refuses it either way', async () => {
  repo.release('1.2.0');
  assert.equal((await cli(repo.dir, 'build', '1.2.0')).code, 0);
  const file = tarball('1.2.0');
  const sig = JSON.parse(readFileSync(`${file}.sig`, 'utf8')) as ReleaseSignature;
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  const bad = join(dir, 'tampered.tar.gz');
  writeFileSync(bad, bytes);
  const before = storeFiles();
  // Announced with its real digest: the signature does not cover it.
  await assert.rejects(upload(bad, sig, '1.2.0'), /signature of release hello 1\.2\.0 does not verify with key .*tampered or corrupt/);
  // Announced with the signed digest: the bytes do not match it.
  await assert.rejects(upload(bad, sig, '1.2.0', { sha256: sig.sha256 }), /have sha256 [0-9a-f]{64}, not [0-9a-f]{64} as announced; nothing was stored/);
  assert.deepEqual(storeFiles(), before);
  // The CLI refuses to send a tarball that changed after it was signed.
  writeFileSync(file, bytes);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.2.0');
  assert.equal(d.code, 2);
  assert.match(d.stderr, /the tarball changed after it was signed; run slipway build 1\.2\.0 again/);
  // The agent answers the next request.
  assert.ok((await conn.status()).agent);
});

test('a signature whose manifest digest does not match slipway.json is refused at unpack', async () => {
  const key = readPrivateKey(pki.signing.private);
  repo.release('1.3.0');
  assert.equal((await cli(repo.dir, '-c', 'unsigned.yaml', 'build', '1.3.0')).code, 0);
  const t = tarball('1.3.0');
  const signed = signRelease(key, { app: 'hello', version: '1.3.0', sha256: sha(t), manifest_sha256: sha256Hex('{"not":"this manifest"}\n') });
  const res = await upload(t, signed, '1.3.0');
  assert.equal(res.already_stored, false);
  const events: string[] = [];
  const last = await conn.activate({ app: 'hello', version: '1.3.0', sha256: sha(t), strategy: '', reason: 'deploy', requested_by: 'test', undo: false }, (e) => events.push(`${e.event} ${e.message}`), 60_000)
    .catch((err: Error) => ({ event: 'error', message: err.message }));
  assert.match(`${last?.event} ${last?.message}`, /slipway\.json of release hello 1\.3\.0 has sha256 [0-9a-f]{16}…, not the signed/);
});

test('a release signed by a key the agent does not trust is refused, naming the key', async () => {
  const stranger = await generateSigningKey(join(dir, 'stranger'));
  repo.release('1.4.0');
  assert.equal((await cli(repo.dir, '-c', 'unsigned.yaml', 'build', '1.4.0')).code, 0);
  const t = tarball('1.4.0');
  const s = signRelease(readPrivateKey(stranger.private), { app: 'hello', version: '1.4.0', sha256: sha(t), manifest_sha256: sha256Hex('x') });
  await assert.rejects(upload(t, s, '1.4.0'), new RegExp(`signed by key ${stranger.keyId}, which this agent does not trust \\(trusted_keys: ${pki.signing.keyId}\\)`));
});

test('rotated keys: an agent trusting old and new accepts both; after the old key is dropped, only the new', async () => {
  const next = await generateSigningKey(join(dir, 'pki', 'release-next'));
  const text = readFileSync(agent.configFile, 'utf8');
  writeFileSync(agent.configFile, text.replace(/^trusted_keys: .*$/m, `trusted_keys: [${pki.signing.public}, ${next.public}]`));
  await agent.stop();
  await agent.start();
  const yaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8');
  writeFileSync(join(repo.dir, 'slipway.yaml'), yaml.replace(/^signing_key: .*$/m, `signing_key: ${next.private}`));
  repo.release('1.5.0');
  const b = await cli(repo.dir, 'build', '1.5.0');
  assert.match(b.stdout, new RegExp(`signed with key ${next.keyId}`));
  const d = await cli(repo.dir, 'deploy', 'staging', '1.5.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  // A release signed with the old key still goes (rolling over, both trusted).
  repo.release('1.6.0');
  writeFileSync(join(repo.dir, 'old.yaml'), yaml);
  assert.equal((await cli(repo.dir, '-c', 'old.yaml', 'build', '1.6.0')).code, 0);
  assert.equal((await cli(repo.dir, '-c', 'old.yaml', 'deploy', 'staging', '1.6.0', '--upload-only')).code, 0);
  // Old key dropped.
  writeFileSync(agent.configFile, text.replace(/^trusted_keys: .*$/m, `trusted_keys: [${next.public}]`));
  await agent.stop();
  await agent.start();
  repo.release('1.7.0');
  assert.equal((await cli(repo.dir, '-c', 'old.yaml', 'build', '1.7.0')).code, 0);
  const refused = await cli(repo.dir, '-c', 'old.yaml', 'deploy', 'staging', '1.7.0');
  assert.equal(refused.code, 1);
  assert.match(refused.stdout + refused.stderr, new RegExp(`signed by key ${pki.signing.keyId}, which this agent does not trust`));
  // 1.6.0, stored under the old key, is not unpacked any more either.
  const act = await cli(repo.dir, '-c', 'old.yaml', 'deploy', 'staging', '1.6.0');
  assert.equal(act.code, 1);
  assert.match(act.stdout + act.stderr, /signed by key .*does not trust/);
});
