// The release pipeline end to end, on real agents over real gRPC: build from
// git tags, deploy to three agents, upgrade, dedupe, stale releases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, get, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import type { ReleaseSignature } from '../../common/signing.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('pipeline');
  agents = await startAgents(dir, 3);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

async function versionsServed(): Promise<string[]> {
  return Promise.all(agents.map(async (a) => (JSON.parse((await get(appHost(a), repo.port)).body) as { version: string }).version));
}

test('deploys 1.0.0 to three agents, then upgrades them to 1.1.0', async () => {
  repo.release('1.0.0', { 'message.txt': 'first\n' });
  repo.release('1.1.0', { 'message.txt': 'second\n' });
  const b1 = await cli(repo.dir, 'build', '1.0.0');
  assert.equal(b1.code, 0, b1.stderr);
  const d1 = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d1.code, 0, d1.stdout + d1.stderr);
  assert.deepEqual(await versionsServed(), ['1.0.0', '1.0.0', '1.0.0']);

  const b2 = await cli(repo.dir, 'build', 'v1.1.0');
  assert.equal(b2.code, 0, b2.stderr);
  assert.match(b2.stderr, /read as version 1\.1\.0/);
  const d2 = await cli(repo.dir, '--json', 'deploy', 'staging', '1.1.0');
  assert.equal(d2.code, 0, d2.stdout + d2.stderr);
  const out = JSON.parse(d2.stdout) as { schema: number; ok: boolean; hosts: { ok: boolean; upload: string; events: { event: string }[] }[] };
  assert.equal(out.schema, 1);
  assert.equal(out.ok, true);
  for (const h of out.hosts) {
    assert.equal(h.upload, 'sent');
    assert.deepEqual(h.events.map((e) => e.event).filter((e) => e !== 'draining'), ['unpacking', 'starting', 'ready', 'done']);
  }
  assert.deepEqual(await versionsServed(), ['1.1.0', '1.1.0', '1.1.0']);

  const st = await cli(repo.dir, '--json', 'status', 'staging');
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout) as { hosts: { ok: boolean; app: { state: string; version: string; pid: number } }[] };
  for (const h of status.hosts) {
    assert.equal(h.app.state, 'running');
    assert.equal(h.app.version, '1.1.0');
    assert.ok(h.app.pid > 0);
  }
  const human = await cli(repo.dir, 'status', 'staging');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /HOST\s+APP\s+VERSION\s+STATE/);

  const vs = await cli(repo.dir, '--json', 'versions', 'staging');
  assert.equal(vs.code, 0, vs.stderr);
  const versions = JSON.parse(vs.stdout) as { hosts: { releases: { version: string; current: boolean; rollback_target: boolean }[] }[] };
  for (const h of versions.hosts) {
    assert.deepEqual(h.releases.map((r) => r.version).sort(), ['1.0.0', '1.1.0']);
    assert.equal(h.releases.find((r) => r.current)?.version, '1.1.0');
    assert.equal(h.releases.find((r) => r.rollback_target)?.version, '1.0.0');
  }
});

test('a second deploy of the same release sends no bytes', async () => {
  const conn = connect(agents[0]);
  try {
    const before = (await conn.status()).agent?.upload_bytes_total;
    const d = await cli(repo.dir, '--json', 'deploy', 'staging', '1.1.0');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const out = JSON.parse(d.stdout) as { hosts: { upload: string; uploaded_bytes: number }[] };
    for (const h of out.hosts) assert.equal(h.upload, 'skipped');
    const afterDeploy = await conn.status();
    assert.equal(afterDeploy.agent?.upload_bytes_total, before);
    // Even a client that uploads anyway is answered at once, and the agent counts no bytes.
    const tarball = join(repo.dir, '.slipway', 'releases', 'hello-1.1.0.tar.gz');
    const rel = await conn.listReleases('hello');
    const sha = rel.find((r) => r.version === '1.1.0')?.sha256 as string;
    const { size } = await import('node:fs').then((fs) => fs.statSync(tarball));
    // With the signature slipway build wrote beside it: an unsigned upload is refused before the lookup.
    const sig = JSON.parse(readFileSync(`${tarball}.sig`, 'utf8')) as ReleaseSignature;
    const res = await conn.upload(tarball, { app: 'hello', version: '1.1.0', sha256: sha, size, signature: { signature: sig.signature, key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 } });
    assert.equal(res.already_stored, true);
    assert.equal(Number(res.bytes_received), 0);
    const afterUpload = await conn.status();
    assert.equal(afterUpload.agent?.upload_bytes_total, before);
    assert.ok(Number(afterUpload.agent?.uploads_deduplicated_total) >= 1);
  } finally {
    conn.close();
  }
});

test('a re-tagged version with other bytes is unpacked anew and its new code runs', async () => {
  repo.release('1.0.1', { 'message.txt': 'built from the first commit\n' });
  assert.equal((await cli(repo.dir, 'build', '1.0.1')).code, 0);
  const d1 = await cli(repo.dir, 'deploy', 'staging', '1.0.1');
  assert.equal(d1.code, 0, d1.stdout + d1.stderr);
  for (const a of agents) {
    assert.match((JSON.parse((await get(appHost(a), repo.port)).body) as { message: string }).message, /first commit/);
  }
  repo.release('1.0.1', { 'message.txt': 'built from the second commit\n' });
  const b2 = await cli(repo.dir, 'build', '1.0.1');
  assert.equal(b2.code, 0, b2.stderr);
  const d2 = await cli(repo.dir, 'deploy', 'staging', '1.0.1');
  assert.equal(d2.code, 0, d2.stdout + d2.stderr);
  for (const a of agents) {
    assert.match((JSON.parse((await get(appHost(a), repo.port)).body) as { message: string }).message, /second commit/);
    const dirs = readdirSync(join(a.stateDir, 'apps', 'hello', 'releases')).filter((n) => n.startsWith('1.0.1-'));
    assert.equal(dirs.length, 2, `two directories for two different 1.0.1 tarballs: ${dirs.join(', ')}`);
  }
});

test('a release directory without its completion marker is removed and unpacked again', async () => {
  const a = agents[0];
  const releases = join(a.stateDir, 'apps', 'hello', 'releases');
  const dir100 = readdirSync(releases).find((n) => n.startsWith('1.0.0-')) as string;
  rmSync(join(releases, dir100, '.slipway-release.json'));
  rmSync(join(releases, dir100, 'server.js'));
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0', '--host', a.address);
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.equal((JSON.parse((await get(appHost(a), repo.port)).body) as { version: string }).version, '1.0.0');
  await waitFor(() => a.logged('has no completion marker').length > 0, 'the agent to log the re-unpack');
});

test('the restart strategy stops the old version, then starts the new one from its own directory', async () => {
  const d = await cli(repo.dir, '--json', 'deploy', 'staging', '1.1.0', '--strategy', 'restart');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const out = JSON.parse(d.stdout) as { hosts: { events: { event: string }[]; pid: number }[] };
  for (const h of out.hosts) {
    assert.deepEqual(h.events.map((e) => e.event), ['draining', 'starting', 'ready', 'done']);
  }
  assert.deepEqual(await versionsServed(), ['1.1.0', '1.1.0', '1.1.0']);
  for (const [i, a] of agents.entries()) {
    const { readlinkSync } = await import('node:fs');
    const cwd = readlinkSync(`/proc/${out.hosts[i].pid}/cwd`);
    assert.match(cwd, /\/releases\/1\.1\.0-[0-9a-f]{12}$/, 'runs from the resolved release dir, not through current');
    assert.ok(cwd.startsWith(a.stateDir));
  }
});
