// Pure parts of the security work: roles and names in certificates, the
// agent config's TLS rules, release signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolesOf, certNames, hostPart } from '../../common/credentials.js';
import { agentSans } from '../../coordinator/certs.js';
import { parseConfigText } from '../../common/config-file.js';
import { agentConfigSchema } from '../../agent/config.js';

test('rolesOf and certNames read Node\'s subjectaltname string', () => {
  const san = 'URI:urn:slipway:role:agent, DNS:web-1.internal, IP Address:10.0.0.5';
  assert.deepEqual(rolesOf(san), ['agent']);
  assert.deepEqual(certNames(san), ['web-1.internal', '10.0.0.5']);
  assert.deepEqual(rolesOf(undefined), []);
  assert.deepEqual(rolesOf('URI:urn:other:role:deployer'), []);
});

test('hostPart strips ports and brackets', () => {
  assert.equal(hostPart('10.0.0.5:7070'), '10.0.0.5');
  assert.equal(hostPart('[::1]:7070'), '::1');
  assert.equal(hostPart('web-1.internal:7070'), 'web-1.internal');
  assert.equal(hostPart('web-1'), 'web-1');
});

test('agentSans: DNS for names, IP for addresses, ports dropped, junk refused', () => {
  assert.deepEqual(agentSans(['web-1.internal:7070', '10.0.0.5', '[::1]:7070', 'Web-1.Internal']), ['DNS:web-1.internal', 'IP:10.0.0.5', 'IP:::1']);
  assert.throws(() => agentSans(['bad name']), /neither a host name nor an IP/);
  assert.throws(() => agentSans([]), /at least one host/);
});

const cfg = (text: string) => parseConfigText(text, agentConfigSchema, 'agent.yaml');
const TLS = 'tls: { ca: ca.pem, cert: a.pem, key: a-key.pem }\n';

test('agent config: http_tls and http_token_file', () => {
  assert.equal(cfg(`listen: 10.0.0.5:7070\n${TLS}http: 10.0.0.5:7071\n`).http_tls, undefined);
  assert.throws(() => cfg(`listen: 10.0.0.5:7070\n${TLS}http: 10.0.0.5:7071\nhttp_tls: false\n`), /http_tls: false is only allowed when http is a loopback address/);
  assert.throws(() => cfg('listen: 127.0.0.1:7070\ntls: { insecure: true }\nhttp_tls: true\n'), /http_tls needs the agent's certificate/);
  assert.equal(cfg(`listen: 10.0.0.5:7070\n${TLS}http_token_file: token\n`).http_token_file, 'token');
  assert.equal(cfg(`listen: 10.0.0.5:7070\n${TLS}`).tls_reload_s, 300);
});

test('ReleaseVerifier: several trusted keys; no key and no allow_unsigned refuses everything; allow_unsigned lets unsigned through', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { generateSigningKey, readPrivateKey, signRelease } = await import('../../common/signing.js');
  const { ReleaseVerifier } = await import('../../agent/storage/signatures.js');
  const d = mkdtempSync(join(tmpdir(), 'slipway-keys-'));
  try {
    const a = await generateSigningKey(join(d, 'a'));
    const b = await generateSigningKey(join(d, 'b'));
    assert.match(a.keyId, /^[0-9a-f]{16}$/);
    const fields = { app: 'hello', version: '1.0.0', sha256: 'a'.repeat(64), manifest_sha256: 'b'.repeat(64) };
    const sigOf = (k: string) => { const s = signRelease(readPrivateKey(k), fields); return { ...fields, key_id: s.key_id, signature: Buffer.from(s.signature, 'base64') }; };
    const both = new ReleaseVerifier([a.public, b.public], false);
    assert.deepEqual(both.check(sigOf(a.private)), { signed: true, key_id: a.keyId });
    assert.deepEqual(both.check(sigOf(b.private)), { signed: true, key_id: b.keyId });
    assert.throws(() => both.check({ ...sigOf(a.private), version: '1.0.1' }), /does not verify with key/);
    const none = new ReleaseVerifier([], false);
    assert.throws(() => none.check({ ...fields, key_id: '', signature: Buffer.alloc(0) }), /accepts no release: it trusts no key/);
    assert.throws(() => none.check(sigOf(a.private)), /does not trust \(trusted_keys: none\)/);
    const loose = new ReleaseVerifier([], true);
    assert.deepEqual(loose.check({ ...fields, key_id: '', signature: Buffer.alloc(0) }), { signed: false, key_id: '' });
    assert.throws(() => new ReleaseVerifier([join(d, 'missing.pub')], false), /cannot read the trusted key/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('LockTable: refuses others while live, renews by lease id, expires, persists across a reload', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { LockTable } = await import('../../agent/locks.js');
  const log = { warn() {}, info() {}, error() {} } as never;
  const d = mkdtempSync(join(tmpdir(), 'slipway-locks-'));
  let now = Date.parse('2026-11-27T10:02:00Z');
  try {
    const t = new LockTable(d, log, () => now);
    const { lease } = await t.acquire('hello', 'ci-1', 'deploying 1.4.2', 30);
    await assert.rejects(t.acquire('hello', 'ci-2', 'x', 30), /hello is locked by ci-1 since 2026-11-27 10:02:00Z \(deploying 1\.4\.2\)/);
    now += 20_000;
    await t.acquire('hello', 'ci-1', 'deploying 1.4.2', 30, lease.lease_id); // renewal
    now += 20_000;
    await assert.rejects(t.acquire('hello', 'ci-2', 'x', 30), /locked by ci-1/);
    const reloaded = new LockTable(d, log, () => now);
    await reloaded.load();
    assert.equal(reloaded.current('hello')?.holder, 'ci-1');
    now += 31_000;
    const taken = await reloaded.acquire('hello', 'ci-2', 'deploying 1.4.3', 30);
    assert.equal(taken.took_over?.holder, 'ci-1');
    await assert.rejects(reloaded.release('hello', 'ci-1', '', false), /only ci-2 can release it/);
    assert.equal((await reloaded.release('hello', 'ci-1', '', true)).released?.holder, 'ci-2');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
