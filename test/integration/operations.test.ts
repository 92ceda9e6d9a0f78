// Running a fleet day to day on real agents: tasks (and a deploy's
// before_activate task), per-host settings applied by a restart, and the
// history merged from two hosts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, get, appHost, type AppRepo } from '../helpers/env.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';
import { spawnSync } from 'node:child_process';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;

/** Adds tasks (and optionally before_activate) to the repo's slipway.yaml. */
function withTasks(beforeActivate?: string): void {
  const file = join(repo.dir, 'slipway.yaml');
  let yaml = readFileSync(file, 'utf8').replace(/^tasks:.*\n( {2}.*\n)*/m, '').replace(/^before_activate:.*\n/m, '');
  yaml += [
    'tasks:',
    '  migrate: [sh, -c, "echo migrating $SLIPWAY_APP $SLIPWAY_VERSION in $PWD; echo to stderr >&2; test -z \\"$FAIL_MIGRATION\\""]',
    '  code7: [sh, -c, "echo seven; exit 7"]',
    beforeActivate ? `before_activate: ${beforeActivate}` : '',
    '',
  ].join('\n');
  writeFileSync(file, yaml);
}

before(async () => {
  dir = tempDir('operations');
  agents = await startAgents(dir, 2);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  withTasks();
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

test('run: a task on one host by default, in the current release, output prefixed, its exit code is the command\'s', async () => {
  const r = await cli(repo.dir, 'run', 'staging', 'migrate');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^${agents[0].address} \\| migrating hello 1\\.0\\.0 in .*releases/1\\.0\\.0-`, 'm'));
  assert.doesNotMatch(r.stdout, new RegExp(agents[1].address), 'one host only');
  assert.match(r.stderr, /to stderr/);
  const seven = await cli(repo.dir, 'run', 'staging', 'code7', '--all');
  assert.equal(seven.code, 7);
  assert.match(seven.stdout, new RegExp(`${agents[0].address} \\| seven`));
  const unknown = await cli(repo.dir, 'run', 'staging', 'nosuch');
  assert.equal(unknown.code, 2, 'an unknown task is bad input');
  assert.match(unknown.stderr, /has no task "nosuch"; its tasks: migrate, code7/);
});

test('a deploy runs before_activate on one host in the new release first; when it fails, no host is switched', async () => {
  withTasks('migrate');
  repo.release('1.1.0');
  assert.equal((await cli(repo.dir, 'build', '1.1.0')).code, 0);
  const ok = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /migrating hello 1\.1\.0/);
  // A failing migration: the env of the first host makes it fail.
  assert.equal((await cli(repo.dir, 'env', 'staging', '--host', agents[0].address, 'set', 'FAIL_MIGRATION=yes')).code, 0);
  repo.release('1.2.0');
  assert.equal((await cli(repo.dir, 'build', '1.2.0')).code, 0);
  const bad = await cli(repo.dir, '--json', 'deploy', 'staging', '1.2.0');
  assert.equal(bad.code, 1);
  const out = JSON.parse(bad.stdout) as { hosts: { outcome: string; error: { message: string } }[] };
  assert.deepEqual(out.hosts.map((h) => h.outcome), ['not_reached', 'not_reached']);
  assert.match(out.hosts[0].error.message, /before_activate failed .*exited with code 1/);
  for (const a of agents) assert.equal((JSON.parse((await get(appHost(a), repo.port)).body) as { version: string }).version, '1.1.0');
  assert.equal((await cli(repo.dir, 'env', 'staging', 'unset', 'FAIL_MIGRATION')).code, 0);
  withTasks();
});

test('env: set, list (redacted unless --show), unset; owner-only; a restart applies it', async () => {
  const set = await cli(repo.dir, 'env', 'staging', 'set', 'HELLO_GREETING=bonjour', 'SECRET=s3cr3t-value');
  assert.equal(set.code, 0, set.stderr);
  const list = await cli(repo.dir, 'env', 'staging', 'list');
  assert.match(list.stdout, /SECRET\s+•••••• \(12 chars\)/);
  // Not one character of a secret: not even its first two.
  assert.doesNotMatch(list.stdout, /s3/);
  const shown = await cli(repo.dir, '--json', 'env', 'staging', 'list', '--show');
  const doc = JSON.parse(shown.stdout) as { hosts: { env: Record<string, string> }[] };
  assert.equal(doc.hosts[0].env.SECRET, 's3cr3t-value');
  const file = join(agents[0].stateDir, 'apps', 'hello', 'shared', 'env');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match((await get(appHost(agents[0]), repo.port, '/')).body, /^hello /, 'not applied before a restart');
  assert.equal((await cli(repo.dir, 'restart', 'staging')).code, 0);
  for (const a of agents) assert.match((await get(appHost(a), repo.port, '/')).body, /^bonjour /);
  assert.equal((await cli(repo.dir, 'env', 'staging', 'unset', 'HELLO_GREETING', 'SECRET')).code, 0);
  const bad = await cli(repo.dir, 'env', 'staging', 'set', '1BAD=x');
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /not an environment variable name/);
  assert.equal((await cli(repo.dir, 'env', 'staging', 'set', 'novalue')).code, 2);
  // From a file (and from standard input with -): the values never touch the command line.
  writeFileSync(join(dir, 'secrets.env'), '# shop secrets\nexport DB_PASSWORD="p@ss word"\n\nAPI_KEY=k-123\n');
  assert.equal((await cli(repo.dir, 'env', 'staging', 'set', '--from-file', join(dir, 'secrets.env'))).code, 0);
  const fromFile = JSON.parse((await cli(repo.dir, '--json', 'env', 'staging', 'list', '--show')).stdout) as { hosts: { env: Record<string, string> }[] };
  assert.deepEqual([fromFile.hosts[0].env.DB_PASSWORD, fromFile.hosts[0].env.API_KEY], ['p@ss word', 'k-123']);
  const piped = spawnSync(process.execPath, [CLI_BIN, 'env', 'staging', 'set', '--from-file', '-'], { cwd: repo.dir, input: 'API_KEY=k-456\n', encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  const fromStdin = JSON.parse((await cli(repo.dir, '--json', 'env', 'staging', 'list', '--show')).stdout) as { hosts: { env: Record<string, string> }[] };
  assert.equal(fromStdin.hosts[1].env.API_KEY, 'k-456');
  writeFileSync(join(dir, 'bad.env'), 'OK=1\nnot a line\n');
  const badFile = await cli(repo.dir, 'env', 'staging', 'set', '--from-file', join(dir, 'bad.env'));
  assert.equal(badFile.code, 2);
  assert.match(badFile.stderr, /bad\.env line 2: not KEY=VALUE/);
  assert.equal((await cli(repo.dir, 'env', 'staging', 'unset', 'DB_PASSWORD', 'API_KEY')).code, 0);
});

test('history: every host\'s operations merged in time order', async () => {
  const r = await cli(repo.dir, '--json', 'history', 'staging', '-n', '100');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { entries: { host: string; at: string; action: string; to_version: string; result: string }[] };
  const times = doc.entries.map((e) => e.at);
  assert.deepEqual(times, [...times].sort(), 'in time order');
  assert.deepEqual(new Set(doc.entries.map((e) => e.host)), new Set(agents.map((a) => a.address)), 'both hosts');
  const actions = doc.entries.filter((e) => e.host === agents[0].address).map((e) => `${e.action} ${e.to_version} ${e.result}`);
  for (const want of ['deploy 1.0.0 done', 'task 1.0.0 done', 'deploy 1.1.0 done', 'task 1.2.0 failed', 'env  done', 'restart 1.1.0 done']) {
    assert.ok(actions.includes(want), `${want} in ${actions.join('; ')}`);
  }
  const human = await cli(repo.dir, 'history', 'staging');
  assert.match(human.stdout, /WHEN\s+HOST\s+ACTION/);
});
