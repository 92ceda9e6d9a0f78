// Prune on a real agent (keep_releases: 2): across deploys, a rollback, an
// upload never activated and a deploy in progress, `slipway prune` keeps
// exactly the current release, the rollback target, the newest two by use
// and the one being activated; tarballs of pruned releases, temp leftovers
// and rotated logs past limits.log_files go too; each removal is logged and
// counted in /metrics. The schedule itself is tested in test/unit/prune.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tempDir, makeAppRepo, newAgent, connect, cleanup, cli, waitFor, get, type AppRepo } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import type { AgentConnection } from '../../coordinator/client.js';

let dir: string;
let agent: LocalAgent;
let repo: AppRepo;
let conn: AgentConnection;

const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];

before(async () => {
  dir = tempDir('prune');
  agent = await newAgent(dir, {
    dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`,
    // Neither schedule may run during the test: once a year. The reconcile
    // (every minute by default) also removes temp leftovers, which would take
    // the planted upload leftover before prune does.
    extraConfig: 'keep_releases: 2\nprune_schedule: "0 0 1 1 *"\nreconcile_schedule: "0 0 1 1 *"\nlimits: { log_files: 2 }\n',
  });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  for (const v of VERSIONS) {
    repo.release(v, { 'message.txt': `release ${v}\n` });
    const b = await cli(repo.dir, 'build', v);
    assert.equal(b.code, 0, b.stderr);
  }
  conn = connect(agent);
});

after(async () => {
  conn.close();
  await agent.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  cleanup(dir);
});

const appDir = () => join(agent.stateDir, 'apps', 'hello');

/** version → where it is on the host ("stored+unpacked", "stored"). */
async function present(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of await conn.listReleases('hello')) out[r.version] = [r.stored ? 'stored' : '', r.unpacked ? 'unpacked' : ''].filter(Boolean).join('+');
  return out;
}

interface PruneJson {
  ok: boolean;
  dry_run: boolean;
  hosts: { removed: { kind: string; version: string; path: string; bytes: number }[]; kept: { version: string; current: boolean; rollback_target: boolean }[]; bytes_freed: number }[];
}

async function prune(...args: string[]): Promise<PruneJson> {
  const r = await cli(repo.dir, '--json', 'prune', 'staging', ...args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as PruneJson;
}

const removedOf = (p: PruneJson, kind: string) => p.hosts[0].removed.filter((i) => i.kind === kind).map((i) => i.version).sort();

test('prune keeps exactly what it must across deploys, a rollback, an upload and a deploy in progress', async () => {
  for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
    const d = await cli(repo.dir, 'deploy', 'staging', v);
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }
  // Undo 1.3.0: current 1.2.0, rollback target 1.1.0.
  const rb = await cli(repo.dir, 'rollback', 'staging');
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  // Uploaded, never activated: the newest by arrival.
  const up = await cli(repo.dir, 'deploy', 'staging', '1.4.0', '--upload-only');
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const all = { '1.0.0': 'stored+unpacked', '1.1.0': 'stored+unpacked', '1.2.0': 'stored+unpacked', '1.3.0': 'stored+unpacked', '1.4.0': 'stored' };
  assert.deepEqual(await present(), all);

  // Leftovers: an interrupted upload of an earlier agent (pid 1 is never this agent), and logs past log_files: 2.
  writeFileSync(join(appDir(), 'store', '.tmp-upload-1-0123456789ab'), 'x'.repeat(1000));
  mkdirSync(join(appDir(), 'logs'), { recursive: true });
  for (const n of [1, 2, 3, 4]) writeFileSync(join(appDir(), 'logs', `app.log.${n}`), 'old line\n');

  // A dry run says what would go and removes nothing.
  const dry = await prune('--dry-run');
  assert.equal(dry.dry_run, true);
  assert.deepEqual(removedOf(dry, 'release'), ['1.0.0', '1.3.0']);
  assert.deepEqual(removedOf(dry, 'tarball'), ['1.0.0', '1.3.0']);
  assert.deepEqual(dry.hosts[0].kept.map((k) => k.version).sort(), ['1.1.0', '1.2.0', '1.4.0']);
  assert.deepEqual(await present(), all);
  assert.ok(existsSync(join(appDir(), 'logs', 'app.log.4')));

  // A deploy of 1.0.0 in progress (its start takes 4 s): prune must leave 1.0.0 alone.
  mkdirSync(join(appDir(), 'shared'), { recursive: true });
  writeFileSync(join(appDir(), 'shared', 'env'), 'HELLO_START_DELAY_MS=4000\n');
  const deploying = cli(repo.dir, 'deploy', 'staging', '1.0.0');
  await waitFor(async () => (await conn.status('hello')).apps[0]?.state === 'activating', 'the deploy of 1.0.0 to be in progress');
  const during = await prune();
  assert.deepEqual(removedOf(during, 'release'), ['1.3.0']);
  assert.deepEqual(removedOf(during, 'tarball'), ['1.3.0']);
  assert.deepEqual(during.hosts[0].removed.filter((i) => i.kind === 'temp').map((i) => i.path), ['apps/hello/store/.tmp-upload-1-0123456789ab']);
  assert.deepEqual(during.hosts[0].removed.filter((i) => i.kind === 'log').map((i) => i.path).sort(), ['apps/hello/logs/app.log.3', 'apps/hello/logs/app.log.4']);
  assert.deepEqual(await present(), { '1.0.0': 'stored+unpacked', '1.1.0': 'stored+unpacked', '1.2.0': 'stored+unpacked', '1.4.0': 'stored' });
  const d = await deploying;
  assert.equal(d.code, 0, d.stdout + d.stderr);
  rmSync(join(appDir(), 'shared', 'env'));
  assert.equal((await conn.status('hello')).apps[0].version, '1.0.0');
  assert.deepEqual(readdirSync(join(appDir(), 'store')).filter((n) => n.startsWith('.')), []);
  assert.ok(!existsSync(join(appDir(), 'logs', 'app.log.3')));
  assert.ok(existsSync(join(appDir(), 'logs', 'app.log.2')));

  // Now current 1.0.0, rollback target 1.2.0; --keep 1 leaves just those two.
  const last = await prune('--keep', '1');
  assert.deepEqual(removedOf(last, 'release'), ['1.1.0']);
  assert.deepEqual(removedOf(last, 'tarball'), ['1.1.0', '1.4.0']);
  const kept = last.hosts[0].kept;
  assert.deepEqual(kept.map((k) => [k.version, k.current, k.rollback_target]).sort(), [['1.0.0', true, false], ['1.2.0', false, true]]);
  assert.deepEqual(await present(), { '1.0.0': 'stored+unpacked', '1.2.0': 'stored+unpacked' });
  assert.deepEqual(readdirSync(join(appDir(), 'releases')).map((n) => n.slice(0, 6)).sort(), ['1.0.0-', '1.2.0-']);

  // Each removal logged, and counted in the metrics.
  assert.equal(agent.logged('pruned release').length, 2);
  assert.equal(agent.logged('pruned tarball').length, 3);
  const [host, port] = [agent.httpAddress.slice(0, agent.httpAddress.lastIndexOf(':')), Number(agent.httpAddress.slice(agent.httpAddress.lastIndexOf(':') + 1))];
  const metrics = (await get(host, port, '/metrics')).body;
  assert.match(metrics, /^slipway_prune_removed_total\{app="hello",kind="release"\} 2$/m);
  assert.match(metrics, /^slipway_prune_removed_total\{app="hello",kind="tarball"\} 3$/m);
  assert.match(metrics, /^slipway_prune_removed_total\{app="hello",kind="temp"\} 1$/m);
  assert.match(metrics, /^slipway_prune_removed_total\{app="hello",kind="log"\} 2$/m);
  assert.match(metrics, /^slipway_prune_removed_bytes_total\{app="hello",kind="temp"\} 1000$/m);

  // What is left still works: the rollback target is there to go back to, and a pruned version can be deployed again.
  const back = await cli(repo.dir, 'rollback', 'staging');
  assert.equal(back.code, 0, back.stdout + back.stderr);
  assert.equal((await conn.status('hello')).apps[0].version, '1.2.0');
  const again = await cli(repo.dir, 'deploy', 'staging', '1.3.0');
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal((await conn.status('hello')).apps[0].version, '1.3.0');
});

test('slipway prune without --json prints a table; a bad --keep is a usage error', async () => {
  const r = await cli(repo.dir, 'prune', 'staging', '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /WOULD REMOVE/);
  assert.match(r.stdout, /would free .*; kept /);
  const bad = await cli(repo.dir, 'prune', 'staging', '--keep', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--keep must be a whole number from 1 to 1000/);
});
