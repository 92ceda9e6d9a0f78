// Deploy hooks (coordinator/hooks.ts) around a real agent: pre_deploy, then
// the deploy, then post_deploy, each with its variables; a failing
// pre_deploy stops everything before any host is touched; on_failure runs
// when the deploy fails; a failing post_deploy makes the exit 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, type AppRepo } from '../helpers/env.js';
import type { AgentConnection } from '../../coordinator/client.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conn: AgentConnection;

before(async () => {
  dir = tempDir('hooks');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, [agents[0].address]);
  for (const v of ['1.0.0', '1.1.0']) {
    repo.release(v, { 'message.txt': `release ${v}\n` });
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  }
  // Each hook appends a line with its variables to hooks.log (in the repo root, where hooks run).
  appendFileSync(join(repo.dir, 'slipway.yaml'), [
    'hooks:',
    '  pre_deploy: echo "pre_deploy $SLIPWAY_HOOK $SLIPWAY_APP $SLIPWAY_ENV $SLIPWAY_VERSION $SLIPWAY_HOSTS" >> hooks.log && echo announced && test ! -e fail-pre',
    '  post_deploy: [sh, -c, \'echo "post_deploy $SLIPWAY_VERSION $SLIPWAY_HOSTS ${#SLIPWAY_SHA256}" >> hooks.log; echo smoke ok; test ! -e fail-post\']',
    '  on_failure: echo "on_failure $SLIPWAY_VERSION failed=$SLIPWAY_FAILED_HOSTS" >> hooks.log',
    '',
  ].join('\n'));
  conn = connect(agents[0]);
});

after(async () => {
  conn.close();
  await stopAgents(agents);
  cleanup(dir);
});

const hookLog = (): string[] => {
  try {
    return readFileSync(join(repo.dir, 'hooks.log'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};
const reset = () => rmSync(join(repo.dir, 'hooks.log'), { force: true });
const running = async () => (await conn.status('hello')).apps[0]?.version;

test('pre_deploy, the deploy, then post_deploy, in order, with their variables; their output is shown', async () => {
  reset();
  const host = agents[0].address;
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.deepEqual(hookLog(), [`pre_deploy pre_deploy hello staging 1.0.0 ${host}`, `post_deploy 1.0.0 ${host} 64`]);
  assert.match(d.stderr, /pre_deploy \| announced/);
  assert.match(d.stderr, /post_deploy \| smoke ok/);
  // pre_deploy's output comes before the deploy's first step, post_deploy's after the last.
  assert.ok(d.stderr.indexOf('pre_deploy | announced') < d.stderr.indexOf('deploying hello 1.0.0'));
  assert.ok(d.stderr.indexOf('deploying hello 1.0.0') < d.stderr.indexOf('post_deploy | smoke ok'));
  assert.equal(await running(), '1.0.0');
});

test('a failing pre_deploy stops everything before any host is touched (exit 1)', async () => {
  reset();
  writeFileSync(join(repo.dir, 'fail-pre'), '');
  try {
    const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
    assert.equal(d.code, 1, d.stdout + d.stderr);
    assert.match(d.stderr, /pre_deploy hook failed \(exit 1\): .*the deploy stopped before any host was touched/);
    assert.doesNotMatch(d.stderr, /deploying hello|uploading/);
    assert.equal(hookLog().length, 1, 'only pre_deploy ran: neither post_deploy nor on_failure');
    // Nothing reached the host: 1.1.0 was not even uploaded, and 1.0.0 still runs.
    assert.deepEqual((await conn.listReleases('hello')).map((r) => r.version), ['1.0.0']);
    assert.equal(await running(), '1.0.0');
    const j = await cli(repo.dir, '--json', 'deploy', 'staging', '1.1.0');
    assert.equal(j.code, 1);
    assert.match((JSON.parse(j.stdout) as { error: { message: string } }).error.message, /pre_deploy hook failed/);
  } finally {
    rmSync(join(repo.dir, 'fail-pre'));
  }
});

test('on_failure runs when the deploy failed; a failing post_deploy makes the exit 1', async () => {
  reset();
  const d = await cli(repo.dir, 'deploy', 'nowhere', '1.1.0');
  assert.equal(d.code, 1, d.stdout + d.stderr);
  assert.deepEqual(hookLog().map((l) => l.split(' ')[0]), ['pre_deploy', 'on_failure']);
  assert.equal(hookLog()[1], 'on_failure 1.1.0 failed=127.0.0.1:1');

  reset();
  writeFileSync(join(repo.dir, 'fail-post'), '');
  try {
    const j = await cli(repo.dir, '--json', 'deploy', 'staging', '1.1.0');
    assert.equal(j.code, 1, j.stdout + j.stderr);
    const doc = JSON.parse(j.stdout) as { ok: boolean; hosts: { ok: boolean }[]; hooks: { hook: string; ok: boolean; exit_code: number }[] };
    assert.equal(doc.ok, false);
    assert.ok(doc.hosts.every((h) => h.ok), 'every host runs 1.1.0');
    assert.deepEqual(doc.hooks.map((h) => [h.hook, h.ok, h.exit_code]), [['pre_deploy', true, 0], ['post_deploy', false, 1]]);
    // Hook output went to stderr: stdout is the JSON document alone.
    assert.match(j.stderr, /post_deploy \| smoke ok/);
    assert.equal(await running(), '1.1.0');
  } finally {
    rmSync(join(repo.dir, 'fail-post'));
  }
});
