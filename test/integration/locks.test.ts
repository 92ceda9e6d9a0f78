// Deploy locks through real agents over mTLS: a second operator is refused
// with who, since when and why; a lock held by hand; a dead holder's lease
// expires on its own; leases survive an agent restart; --force.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, cli, makeAppRepo, testPki, stopAgents, waitFor, type AppRepo } from '../helpers/env.js';
import { LocalAgent, CLI_BIN } from '../../scripts/local-fleet.js';
import type { Pki } from '../../scripts/pki.js';
import { issue } from '../../coordinator/certs.js';

let dir: string;
let pki: Pki;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('locks');
  pki = await testPki(dir);
  agents = [];
  for (const name of ['agent1', 'agent2']) {
    const c = await pki.agentCert(name);
    agents.push(new LocalAgent({ dir: join(dir, name), name, appBind: `127.0.${80 + agents.length}.2`, tls: { ca: pki.ca, cert: c.cert, key: c.key }, trustedKeys: [pki.signing.public] }));
  }
  await Promise.all(agents.map((a) => a.start()));
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  // Without its signing_key line, which each variant below adds back.
  const yaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8').replace(/^signing_key: .*\n/m, '');
  writeFileSync(join(repo.dir, 'slipway.yaml'), `${yaml}signing_key: ${pki.signing.private}\n`);
  // A second operator, ci-2, and a deploy whose pre_deploy hook takes a while (the lock is held by then).
  const ci2 = await issue(pki.dir, 'ci-2', 'deployer');
  writeFileSync(join(repo.dir, 'ci2.yaml'), `${yaml.replace(/cert: [^,]+ci-1\.pem, key: [^ ]+ci-1-key\.pem/g, `cert: ${ci2.cert}, key: ${ci2.key}`)}signing_key: ${pki.signing.private}\n`);
  writeFileSync(join(repo.dir, 'slow.yaml'), `${yaml}signing_key: ${pki.signing.private}\nhooks: { pre_deploy: "sleep 4" }\n`);
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  repo.release('1.1.0');
  assert.equal((await cli(repo.dir, 'build', '1.1.0')).code, 0);
});

after(async () => {
  await stopAgents(agents ?? []);
  cleanup(dir);
});

function startCli(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<{ code: number | null; out: string }>((r) => child.on('exit', (code) => r({ code, out })));
  return { child, done, out: () => out };
}

test('a concurrent deploy is refused: locked by ci-1 since HH:MM (deploying 1.0.0), exit 1, nothing changed', async () => {
  const first = startCli(repo.dir, {}, '-c', 'slow.yaml', 'deploy', 'staging', '1.0.0');
  await waitFor(() => first.out().includes('pre_deploy'), 'the first deploy to reach its pre_deploy hook');
  const second = await cli(repo.dir, '-c', 'ci2.yaml', 'deploy', 'staging', '1.1.0');
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(second.stderr, /hello is locked by ci-1(?: \(claimed: [^)]+\))? since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(deploying 1\.0\.0\)/);
  assert.doesNotMatch(second.stdout + second.stderr, /uploading/);
  const r = await first.done;
  assert.equal(r.code, 0, r.out);
  // Released at the end: the next deploy goes.
  const third = await cli(repo.dir, '-c', 'ci2.yaml', 'deploy', 'staging', '1.1.0');
  assert.equal(third.code, 0, third.stdout + third.stderr);
});

test('slipway lock holds it by hand (also across an agent restart); unlock by another needs --force', async () => {
  const l = await cli(repo.dir, 'lock', 'staging', '--reason', 'database migration');
  assert.equal(l.code, 0, l.stdout + l.stderr);
  assert.match(l.stdout, /locked by ci-1(?: \(claimed: [^)]+\))? until/);
  await agents[0].stop();
  await agents[0].start();
  for (const args of [['deploy', 'staging', '1.0.0'], ['rollback', 'staging'], ['restart', 'staging']]) {
    const r = await cli(repo.dir, '-c', 'ci2.yaml', ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /locked by ci-1(?: \(claimed: [^)]+\))? since .* \(database migration\)/, args.join(' '));
  }
  const notMine = await cli(repo.dir, '-c', 'ci2.yaml', 'unlock', 'staging');
  assert.equal(notMine.code, 1);
  assert.match(notMine.stdout, /only ci-1(?: \(claimed: [^)]+\))? can release it \(or use --force\)/);
  const forced = await cli(repo.dir, '-c', 'ci2.yaml', 'unlock', 'staging', '--force');
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  assert.match(forced.stdout, /released the lock of ci-1(?: \(claimed: [^)]+\))? \(database migration\)/);
  const again = await cli(repo.dir, 'unlock', 'staging');
  assert.match(again.stdout, /was not locked/);
  const h = await cli(repo.dir, 'history', 'staging', '--json');
  if (h.code === 0) assert.match(h.stdout, /forced: released the lease of ci-1/);
});

test('a dead holder\'s lease expires on its own', async () => {
  const dying = startCli(repo.dir, { SLIPWAY_LOCK_TTL_S: '2' }, '-c', 'slow.yaml', 'deploy', 'staging', '1.0.0');
  await waitFor(() => dying.out().includes('pre_deploy'), 'the deploy to hold its lock');
  dying.child.kill('SIGKILL');
  await dying.done;
  const refused = await cli(repo.dir, '-c', 'ci2.yaml', 'deploy', 'staging', '1.0.0');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /locked by ci-1/);
  // The lease (TTL 2 s) is no longer renewed: a later deploy gets through once it has expired.
  const r = await waitFor(async () => {
    const attempt = await cli(repo.dir, '-c', 'ci2.yaml', 'deploy', 'staging', '1.0.0');
    return attempt.code === 0 ? attempt : undefined;
  }, 'the dead holder\'s lease to expire', 60_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor(() => agents[1].logged('took over an expired lease').length > 0, 'the take-over in the agent log');
});

test('under mTLS the history and the locks name the certificate, with the operator\'s own name marked as claimed; two people on one certificate cannot release each other\'s lock; lock status tells it', async () => {
  const as = (who: string, ...args: string[]) => startCli(repo.dir, { SLIPWAY_OPERATOR: who }, ...args).done;
  const l = await as('alice', 'lock', 'staging', '--reason', 'backup');
  assert.equal(l.code, 0, l.out);
  assert.match(l.out, /locked by ci-1 \(claimed: alice\) until/);
  const status = await as('bob', '--json', 'lock', 'status', 'staging');
  assert.equal(status.code, 0, status.out);
  const doc = JSON.parse(status.out) as { hosts: { ok: boolean; lease: { holder: string; reason: string } | null }[] };
  assert.deepEqual(doc.hosts.map((h) => [h.ok, h.lease?.holder, h.lease?.reason]), [[true, 'ci-1 (claimed: alice)', 'backup'], [true, 'ci-1 (claimed: alice)', 'backup']]);
  const table = await as('bob', 'lock', 'status', 'staging');
  assert.match(table.out, /locked\s+ci-1 \(claimed: alice\)\s+backup/);
  // bob has the same certificate, not the same lock.
  const bob = await as('bob', 'unlock', 'staging');
  assert.equal(bob.code, 1, bob.out);
  assert.match(bob.out, /only ci-1 \(claimed: alice\) can release it \(or use --force\)/);
  const alice = await as('alice', 'unlock', 'staging');
  assert.equal(alice.code, 0, alice.out);
  const free = await as('bob', 'lock', 'status', 'staging');
  assert.match(free.out, /free/);
  // A deploy's WHO is the certificate too, with the claim beside it.
  const deploy = await as('carol', 'deploy', 'staging', '1.1.0');
  assert.equal(deploy.code, 0, deploy.out);
  const h = await as('bob', '--json', 'history', 'staging');
  assert.equal(h.code, 0, h.out);
  const entries = (JSON.parse(h.out) as { entries: { action: string; who: string; message: string }[] }).entries;
  assert.ok(entries.some((e) => e.action === 'lock' && e.who === 'ci-1 (claimed: alice)' && /backup/.test(e.message)), JSON.stringify(entries));
  assert.ok(entries.some((e) => e.action === 'unlock' && e.who === 'ci-1 (claimed: alice)'), JSON.stringify(entries));
  assert.ok(entries.some((e) => e.action === 'deploy' && e.who === 'ci-1 (claimed: carol)'), JSON.stringify(entries));
  // A deploy's own lease is not written to the history: no lock entry by carol.
  assert.ok(!entries.some((e) => (e.action === 'lock' || e.action === 'unlock') && e.who.includes('carol')), JSON.stringify(entries));
});
