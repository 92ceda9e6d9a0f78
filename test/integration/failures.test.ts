// Bad inputs and faults on real agents: each gives its documented error and
// exit code, and changes nothing on disk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, writeFileSync, statSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { tempDir, makeAppRepo, connect, signUpload, startAgents, stopAgents, cleanup, cli, type AppRepo } from '../helpers/env.js';
import type { AgentConnection, HostError } from '../../coordinator/client.js';
import { AGENT_BIN, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conn: AgentConnection;

before(async () => {
  dir = tempDir('failures');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  repo.release('1.0.0');
  conn = connect(agents[0]);
});

after(async () => {
  conn.close();
  await stopAgents(agents);
  cleanup(dir);
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const releasesDir = () => join(agents[0].stateDir, 'apps', 'hello', 'releases');
const listDir = (d: string) => (existsSync(d) ? readdirSync(d) : []);

test('an unknown environment is a usage error naming the known ones (exit 2)', async () => {
  const r = await cli(repo.dir, 'status', 'prod');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown environment "prod".*staging/);
});

test('a bad version is a usage error (exit 2); a missing tag names the tags there are', async () => {
  const bad = await cli(repo.dir, 'build', '1.2');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /semver/);
  const missing = await cli(repo.dir, 'build', '9.9.9');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /9\.9\.9/);
  assert.match(missing.stderr, /1\.0\.0/);
  const notBuilt = await cli(repo.dir, 'deploy', 'staging', '3.0.0');
  assert.equal(notBuilt.code, 2);
  assert.match(notBuilt.stderr, /slipway build 3\.0\.0/);
});

test('an unreachable host is named with the reason within the deadline (exit 1)', async () => {
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const t0 = Date.now();
  const r = await cli(repo.dir, 'deploy', 'nowhere', '1.0.0');
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /127\.0\.0\.1:1.*unreachable/s);
  assert.ok(Date.now() - t0 < 30_000, 'reported within seconds, not minutes');
  const s = await cli(repo.dir, '--json', 'status', 'nowhere');
  assert.equal(s.code, 1);
  const out = JSON.parse(s.stdout) as { hosts: { ok: boolean; error: { unreachable: boolean; message: string } }[] };
  assert.equal(out.hosts[0].ok, false);
  assert.equal(out.hosts[0].error.unreachable, true);
});

test('an upload whose bytes do not match its sha256 is refused and nothing is stored', async () => {
  const data = gzipSync(Buffer.from('not what was announced'));
  const file = join(dir, 'mismatch.tar.gz');
  writeFileSync(file, data);
  await assert.rejects(
    conn.upload(file, { app: 'hello', version: '5.0.0', sha256: 'a'.repeat(64), size: data.length, signature: await signUpload(dir, { app: 'hello', version: '5.0.0', sha256: 'a'.repeat(64) }) }),
    (err: HostError) => /sha256 .* not a{64} as announced; nothing was stored/.test(err.message) && err.status === 3 && err.code === 'SLIPWAY_ERR_UPLOAD_MISMATCH',
  );
  const store = join(agents[0].stateDir, 'apps', 'hello', 'store');
  assert.deepEqual(listDir(store).filter((n) => n.includes('aaaaaaaa') || n.startsWith('.tmp')), []);
});

test('bad names in a request are INVALID_ARGUMENT', async () => {
  const file = join(dir, 'x.tar.gz');
  writeFileSync(file, 'x');
  const signed = (app: string, version: string) => signUpload(dir, { app, version, sha256: sha(Buffer.from('x')) });
  await assert.rejects(conn.upload(file, { app: '../etc', version: '1.0.0', sha256: sha(Buffer.from('x')), size: 1, signature: await signed('../etc', '1.0.0') }), /app name "\.\.\/etc" is not valid/);
  await assert.rejects(conn.upload(file, { app: 'hello', version: 'latest', sha256: sha(Buffer.from('x')), size: 1, signature: await signed('hello', 'latest') }), /not exact semver/);
  await assert.rejects(conn.activate({ app: 'hello', version: '1.0.0', sha256: 'xyz' }, () => undefined, 5000), /sha256 "xyz"/);
  await assert.rejects(conn.activate({ app: 'hello', version: '7.7.7', sha256: 'b'.repeat(64) }, () => undefined, 5000), /not on this host; upload it first/);
});

/** Uploads a hand-made tarball, signed with this test's release key (so that only the unpacker can refuse it), and activates it. */
async function uploadAndActivate(name: string, body: Buffer, version: string) {
  const file = join(dir, name);
  writeFileSync(file, body);
  const signature = await signUpload(dir, { app: 'hello', version, sha256: sha(body) });
  await conn.upload(file, { app: 'hello', version, sha256: sha(body), size: body.length, signature });
  const events: string[] = [];
  await conn.activate({ app: 'hello', version, sha256: sha(body) }, (e) => events.push(e.event), 30_000);
  return events;
}

test('a corrupt tarball is refused at unpack with a clear error and leaves nothing behind', async () => {
  const good = readFileSync(join(repo.dir, '.slipway', 'releases', 'hello-1.0.0.tar.gz'));
  const corrupt = good.subarray(0, Math.floor(good.length / 2));
  const before = listDir(releasesDir());
  await assert.rejects(uploadAndActivate('corrupt.tar.gz', corrupt, '6.0.0'), /corrupt|unexpected end/i);
  assert.deepEqual(listDir(releasesDir()), before);
});

test('a tarball with hostile paths is refused and nothing is written outside its directory', async () => {
  const work = join(dir, 'hostile');
  execFileSync('mkdir', ['-p', join(work, 'pkg')]);
  writeFileSync(join(work, 'pkg', 'slipway.json'), '{}');
  // GNU tar writes what we ask with --transform and -P: an entry named ../escaped.txt.
  writeFileSync(join(work, 'pkg', 'escaped.txt'), 'escaped');
  const tarball = join(work, 'hostile.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-P', '-C', join(work, 'pkg'), '--transform', 's,^escaped.txt,../../escaped.txt,', 'slipway.json', 'escaped.txt']);
  const before = listDir(releasesDir());
  await assert.rejects(uploadAndActivate('hostile.tar.gz', readFileSync(tarball), '6.6.6'), (err: HostError) => /\.\./.test(err.message) && err.status === 3 && err.code === 'SLIPWAY_ERR_UNSAFE_ARCHIVE');
  assert.deepEqual(listDir(releasesDir()), before);
  assert.equal(existsSync(join(releasesDir(), '..', 'escaped.txt')), false);
  assert.equal(existsSync(join(agents[0].stateDir, 'apps', 'escaped.txt')), false);
});

test('slipway-agent --check names the bad key and refuses insecure TLS beyond loopback', () => {
  const bad = join(dir, 'bad-agent.yaml');
  writeFileSync(bad, 'listen: 0.0.0.0:7070\ntls: { insecure: true }\nkeep_releses: 3\n');
  let out = '';
  let code = 0;
  try {
    execFileSync(process.execPath, [AGENT_BIN, '--config', bad, '--check'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { status: number; stderr: string };
    code = e.status;
    out = e.stderr;
  }
  assert.equal(code, 2);
  assert.match(out, /keep_releses/);
  assert.match(out, /line 3/);
  assert.match(out, /insecure TLS is only allowed when listen is a loopback address/);
  const good = join(dir, 'good-agent.yaml');
  writeFileSync(good, 'listen: 127.0.0.1:7070\ntls: { insecure: true }\n');
  assert.match(execFileSync(process.execPath, [AGENT_BIN, '--config', good, '--check'], { encoding: 'utf8' }), /valid/);
});

test('a new version that fails to start leaves the old one serving and reports its output', async () => {
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '1.0.0')).code, 0);
  const st0 = await conn.status('hello');
  const pid0 = st0.apps[0].pid;
  repo.release('1.0.2', { 'server.js': 'console.error("boom: cannot start");\nprocess.exit(3);\n' });
  assert.equal((await cli(repo.dir, 'build', '1.0.2')).code, 0);
  const r = await cli(repo.dir, 'deploy', 'staging', '1.0.2');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /boom: cannot start/);
  assert.match(r.stderr, /exited with code 3/);
  const st = await conn.status('hello');
  assert.equal(st.apps[0].version, '1.0.0');
  assert.equal(st.apps[0].pid, pid0);
  assert.equal(st.apps[0].state, 'running');
  void statSync;
});

test('an unknown task is bad input: exit 2, naming the tasks there are', async () => {
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '1.0.0')).code, 0);
  const r = await cli(repo.dir, 'run', 'staging', 'no-such-task');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no-such-task/);
  const j = await cli(repo.dir, '--json', 'run', 'staging', 'no-such-task');
  assert.equal(j.code, 2, j.stderr);
});
