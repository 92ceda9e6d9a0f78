// Elixir releases on real agents, as app_user (the documented production
// setup; the test runs as root and makes a throwaway system user): two real
// `mix release`s of examples/elixir-hello (Debian's elixir, no hex), and
//   - a relup (the default: the upgrade command) under paced load: 0 failed
//     requests, the same pid, the counter's state migrated, nothing under the
//     release dirs changed; surviving reconciles and an agent restart;
//   - rollback through the relup's downgrade, in the same pid;
//   - a hot swap (a new BEAM beside the old on the shared socket) under load;
//   - an env change applied by restart; `slipway run ENV eval` reaching the
//     running node; nothing of the app left running after `slipway stop`
//     (no epmd either).
// Long on purpose: one fixture (two builds take most of the time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tempDir, newAgent, cleanup, cli, connect, git, get, testPki, waitFor, appPort, ROOT } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import type { AgentConnection } from '../../coordinator/client.js';

const isRoot = process.getuid?.() === 0;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = (!isRoot && 'needs root: apps run as app_user, and the test creates that user')
  || (!has('mix') && 'Elixir is not installed (apt-get install elixir erlang-dev; .ci/run does)')
  || (!has('useradd') && 'useradd is not installed');

const userName = `slipway-ex-${Math.floor(Math.random() * 1e5)}`;
let uid = 0;
let dir: string;
let agent: LocalAgent | undefined;
let conn: AgentConnection;
let appDir: string;
let port: number;
const host = `127.0.${10 + Math.floor(Math.random() * 200)}.2`;

before(async () => {
  if (skip) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', userName], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  uid = Number(spawnSync('id', ['-u', userName], { encoding: 'utf8' }).stdout.trim());
  dir = tempDir('elixir');
  chmodSync(dir, 0o711);
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: host, extraConfig: `app_user: ${userName}\nreconcile_schedule: '* * * * * *'\n` });
  await agent.start();
  conn = connect(agent, 15_000);
  const pki = await testPki(dir);
  appDir = join(dir, 'app');
  cpSync(join(ROOT, 'examples', 'elixir-hello'), appDir, { recursive: true, filter: (src) => !/\/(_build|release|deps)$/.test(src) });
  port = appPort();
  const yaml = readFileSync(join(appDir, 'slipway.yaml'), 'utf8').replace('port: 4100', `port: ${port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    hosts: [${agent.address}]\ntls: ${pki.coordinatorTls}\nsigning_key: ${pki.signing.private}\ndeadline_s: 15\n`);
  writeFileSync(join(appDir, 'slipway.yaml'), yaml);
  git(appDir, 'init', '-q', '-b', 'main');
  for (const v of ['0.1.0', '0.2.0']) {
    writeFileSync(join(appDir, 'VERSION'), `${v}\n`);
    git(appDir, 'add', '-A');
    git(appDir, 'commit', '-q', '-m', `release ${v}`);
    git(appDir, 'tag', v);
    const b = await cli(appDir, 'build', v);
    assert.equal(b.code, 0, b.stdout + b.stderr);
  }
  // 0.3.0: a wrong appup (it loads a module the app does not have).
  const mix = join(appDir, 'mix.exs');
  writeFileSync(mix, readFileSync(mix, 'utf8').replace('["Elixir.ElixirHello.Router"]', '["Elixir.ElixirHello.Router", "Elixir.ElixirHello.NoSuchModule"]'));
  writeFileSync(join(appDir, 'VERSION'), '0.3.0\n');
  git(appDir, 'add', '-A');
  git(appDir, 'commit', '-q', '-m', 'release 0.3.0, its appup wrong');
  git(appDir, 'tag', '0.3.0');
  const b3 = await cli(appDir, 'build', '0.3.0');
  assert.equal(b3.code, 0, b3.stdout + b3.stderr);
});

after(async () => {
  conn?.close();
  if (agent) {
    await agent.stop('SIGKILL');
    killAppsUnder(agent.stateDir);
  }
  if (uid) spawnSync('pkill', ['-KILL', '-u', String(uid)]);
  if (dir) cleanup(dir);
  if (uid) spawnSync('userdel', [userName]);
});

interface Version { version: string; pid: number; node: string; hits: number }
const version = async () => JSON.parse((await get(host, port, '/version')).body) as Version;
const state = async () => JSON.parse((await get(host, port, '/state')).body) as { hits: number; started: string; changes: string[] };
const status = async () => (await conn.status('elixir_hello')).apps[0];
const releasesDir = () => join(agent!.stateDir, 'apps', 'elixir_hello', 'releases');

/** sha256 of every file of a release's dir, with modes and owners: what a relup must not change. */
function releaseTree(v: string): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const st = statSync(p);
    h.update(`${p} ${st.mode} ${st.uid}\n`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else if (st.isFile()) h.update(readFileSync(p));
  };
  walk(join(releasesDir(), readdirSync(releasesDir()).find((n) => n.startsWith(`${v}-`)) as string));
  return h.digest('hex');
}
const trees: Record<string, string> = {};

async function underLoad<T>(fn: () => Promise<T>): Promise<{ result: T; failed: number; requests: number; failures: string[] }> {
  const load = new Load({ host, port, keepAliveClients: 2, freshClients: 2, intervalMs: 25, maxDurationMs: 120_000 }).start();
  await waitFor(() => load.outcomes.length >= 20, 'some requests before the change');
  const result = await fn();
  const seen = load.outcomes.length;
  await waitFor(() => load.outcomes.length >= seen + 20, 'some requests after the change');
  const s = await load.stop();
  return { result, failed: s.failed, requests: s.requests, failures: s.failures.slice(0, 5).map((o) => o.error ?? `status ${o.status}`) };
}

async function reconciles(n: number): Promise<void> {
  const file = join(agent!.stateDir, 'apps', 'elixir_hello', 'state.json');
  let last = statSync(file).mtimeMs;
  for (let i = 0; i < n; i++) {
    await waitFor(() => { const m = statSync(file).mtimeMs; if (m === last) return false; last = m; return true; }, 'a reconcile');
  }
}

test('first deploy as app_user (cookie set before it), then a relup under load: 0 failed, same pid, state migrated, release dirs untouched', { skip }, async () => {
  const e = await cli(appDir, 'env', 'staging', 'set', 'RELEASE_COOKIE=slipway-test-cookie-0123456789');
  assert.equal(e.code, 0, e.stdout + e.stderr);
  const d = await cli(appDir, 'deploy', 'staging', '0.1.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const v1 = await version();
  assert.equal(v1.version, '0.1.0');
  assert.equal(v1.pid, (await status()).pid, 'the BEAM is the process slipway started');
  assert.equal(v1.node, `elixir_hello-${v1.pid}@127.0.0.1`);
  assert.match(readFileSync(`/proc/${v1.pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${uid}\\s`, 'm'), 'runs as app_user');
  trees['0.1.0'] = releaseTree('0.1.0');
  const up = await underLoad(() => cli(appDir, 'deploy', 'staging', '0.2.0'));
  assert.equal(up.result.code, 0, up.result.stdout + up.result.stderr);
  assert.equal(up.failed, 0, `failed requests during the relup: ${up.failures.join('; ')}`);
  const v2 = await version();
  assert.deepEqual([v2.version, v2.pid], ['0.2.0', v1.pid], 'the same BEAM runs 0.2.0');
  const s = await state();
  assert.ok(s.hits >= up.requests, `the counter kept its hits (${s.hits})`);
  assert.deepEqual([s.started, s.changes], ['0.1.0', ['up to 0.2.0']]);
  const st = await status();
  assert.deepEqual([st.pid, st.version, st.last_activation?.strategy], [v1.pid, '0.2.0', 'command']);
  assert.equal(releaseTree('0.1.0'), trees['0.1.0'], 'the release the node started from is unchanged');
  trees['0.2.0'] = releaseTree('0.2.0');
});

test('the relupped node survives reconciles and an agent restart', { skip }, async () => {
  const pid = (await version()).pid;
  await reconciles(3);
  conn.close();
  await agent!.stop('SIGKILL');
  await agent!.start();
  conn = connect(agent!, 15_000);
  await waitFor(async () => (await status())?.state === 'running', 'running after the agent restart');
  await reconciles(2);
  const st = await status();
  assert.deepEqual([st.pid, st.version], [pid, '0.2.0']);
  assert.deepEqual([(await version()).pid, (await version()).version], [pid, '0.2.0']);
  assert.equal(agent!.logged('stopping elixir_hello').length, 0);
});

test('rollback runs the relup\'s downgrade in the same pid, recorded the same way', { skip }, async () => {
  const pid = (await version()).pid;
  const r = await underLoad(() => cli(appDir, 'rollback', 'staging'));
  assert.equal(r.result.code, 0, r.result.stdout + r.result.stderr);
  assert.equal(r.failed, 0, r.failures.join('; '));
  assert.deepEqual([(await version()).version, (await version()).pid], ['0.1.0', pid]);
  assert.deepEqual((await state()).changes, ['up to 0.2.0', 'down to 0.1.0']);
  const st = await status();
  assert.deepEqual([st.pid, st.version, st.stack.map((a) => a.version)], [pid, '0.1.0', ['0.1.0']]);
  for (const v of ['0.1.0', '0.2.0']) assert.equal(releaseTree(v), trees[v], `${v}'s release dir is unchanged after the relup and its downgrade`);
});

test('slipway run eval reaches exactly the running node', { skip }, async () => {
  const pid = (await status()).pid;
  const r = await cli(appDir, 'run', 'staging', 'eval', '--', 'IO.puts("#{node()} #{System.pid()}")');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`elixir_hello-${pid}@127\\.0\\.0\\.1 ${pid}`));
});

test('a hot swap under load: a new BEAM beside the old one on the shared socket, 0 failed', { skip }, async () => {
  const old = (await version()).pid;
  const h = await underLoad(() => cli(appDir, 'deploy', 'staging', '0.2.0', '--strategy', 'hot'));
  assert.equal(h.result.code, 0, h.result.stdout + h.result.stderr);
  assert.equal(h.failed, 0, h.failures.join('; '));
  const v = await version();
  assert.equal(v.version, '0.2.0');
  assert.notEqual(v.pid, old);
  await waitFor(() => spawnSync('kill', ['-0', String(old)]).status !== 0, 'the old BEAM to drain and exit');
});

test('an upgrade command that cannot reach the node (a wrong cookie): failed with the rpc\'s words, the node and the records unchanged', { skip }, async () => {
  const before = await status();
  assert.equal((await cli(appDir, 'env', 'staging', 'set', 'RELEASE_COOKIE=not-the-cookie')).code, 0);
  const r = await cli(appDir, 'rollback', 'staging');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /upgrade command .*slipway-upgrade 0\.1\.0 exited with code \d+; 0\.2\.0 keeps running/);
  const st = await status();
  assert.deepEqual([st.pid, st.version, st.stack.map((a) => a.version)], [before.pid, '0.2.0', before.stack.map((a) => a.version)]);
  assert.equal((await version()).version, '0.2.0');
  assert.equal((await cli(appDir, 'env', 'staging', 'set', 'RELEASE_COOKIE=slipway-test-cookie-0123456789')).code, 0);
});

test('a wrong appup: the relup fails with the reason, the node and the records unchanged, and the node still upgrades afterwards', { skip }, async () => {
  const before = await status();
  const r = await cli(appDir, 'deploy', 'staging', '0.3.0');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /no relup from 0\.2\.0 to 0\.3\.0|install_release\(0\.3\.0\) failed/);
  assert.match(r.stderr, /0\.2\.0 keeps running/);
  const st = await status();
  assert.deepEqual([st.pid, st.version, st.stack.map((a) => a.version)], [before.pid, '0.2.0', before.stack.map((a) => a.version)]);
  assert.equal((await version()).version, '0.2.0');
  // release_handler was left as it was: a good relup still works in this node.
  const down = await cli(appDir, 'deploy', 'staging', '0.1.0');
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.deepEqual([(await version()).version, (await version()).pid], ['0.1.0', before.pid]);
});

test('an env change is applied by restart (a new BEAM that has it)', { skip }, async () => {
  const before = (await status()).pid;
  assert.equal((await cli(appDir, 'env', 'staging', 'set', 'MARK=restarted')).code, 0);
  const r = await cli(appDir, 'restart', 'staging');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const st = await status();
  assert.notEqual(st.pid, before);
  const e = await cli(appDir, 'run', 'staging', 'eval', '--', 'IO.puts(System.get_env("MARK"))');
  assert.match(e.stdout, /\| restarted$/m);
});

test('slipway stop leaves nothing of the app running: no BEAM, no epmd', { skip }, async () => {
  const s = await cli(appDir, 'stop', 'staging');
  assert.equal(s.code, 0, s.stdout + s.stderr);
  await waitFor(() => spawnSync('pgrep', ['-u', String(uid)]).status === 1, 'no process of app_user');
  assert.equal(spawnSync('pgrep', ['-x', 'epmd', '-u', String(uid)]).status, 1, 'no epmd of the app (the kit runs without one)');
  assert.equal(readdirSync(join(agent!.stateDir, 'apps', 'elixir_hello', 'tmp', 'epmd')).length >= 1, true, 'the nodes registered in the kit\'s epmd files');
});
