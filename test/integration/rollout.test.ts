// Rollbacks and rolling deploys over four real agents (rolling rollbacks over three of them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, type AppRepo } from '../helpers/env.js';
import type { AgentConnection } from '../../coordinator/client.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conns: AgentConnection[];

before(async () => {
  dir = tempDir('rollout');
  agents = await startAgents(dir, 4);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
    repo.release(v, { 'message.txt': `release ${v}\n` });
    const b = await cli(repo.dir, 'build', v);
    assert.equal(b.code, 0, b.stderr);
  }
  conns = agents.map((a) => connect(a));
});

after(async () => {
  for (const c of conns) c.close();
  await stopAgents(agents);
  cleanup(dir);
});

async function fleetState(): Promise<{ version: string; pid: number; state: string }[]> {
  return Promise.all(conns.map(async (c) => {
    const a = (await c.status('hello')).apps[0];
    return { version: a.version, pid: a.pid, state: a.state };
  }));
}

const versions = async () => (await fleetState()).map((s) => s.version);

test('two rollbacks go back two steps; a rollback to a named version goes there', async () => {
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
    const d = await cli(repo.dir, 'deploy', 'staging', v);
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }
  assert.deepEqual(await versions(), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
  const r1 = await cli(repo.dir, '--json', 'rollback', 'staging');
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  assert.equal((JSON.parse(r1.stdout) as { version: string }).version, '1.1.0');
  assert.deepEqual(await versions(), ['1.1.0', '1.1.0', '1.1.0', '1.1.0']);
  const r2 = await cli(repo.dir, 'rollback', 'staging');
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.deepEqual(await versions(), ['1.0.0', '1.0.0', '1.0.0', '1.0.0']);
  // The stack is now [1.0.0]: nothing left to undo, and the error says what to do.
  const r3 = await cli(repo.dir, 'rollback', 'staging');
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /no earlier activation to go back to.*slipway rollback ENV VERSION/);
  const r4 = await cli(repo.dir, 'rollback', 'staging', '1.2.0');
  assert.equal(r4.code, 0, r4.stdout + r4.stderr);
  assert.deepEqual(await versions(), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
});

test('a rollback is refused before any host is touched when one host lacks the target', async () => {
  const up = await cli(repo.dir, 'deploy', 'staging', '1.3.0', '--upload-only', '--host', agents[0].address);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const before = await fleetState();
  const r = await cli(repo.dir, 'rollback', 'staging', '1.3.0');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`1\\.3\\.0 is not on ${agents[1].address}, ${agents[2].address}, ${agents[3].address}; nothing was changed`));
  assert.deepEqual(await fleetState(), before);
});

test('a rolling deploy, batch 1, whose 3rd host fails: hosts 1 and 2 are put back, 3 keeps the old, 4 is untouched', async () => {
  const before = await fleetState();
  assert.deepEqual(before.map((s) => s.version), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
  const shared = join(agents[2].stateDir, 'apps', 'hello', 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'env'), 'HELLO_CRASH_ON_START=1\n');
  try {
    const d = await cli(repo.dir, '--json', 'deploy', 'staging', '1.4.0', '--batch', '1');
    assert.equal(d.code, 1, d.stdout + d.stderr);
    const out = JSON.parse(d.stdout) as { ok: boolean; hosts: { host: string; outcome: string; output: string[] }[] };
    assert.equal(out.ok, false);
    assert.deepEqual(out.hosts.map((h) => h.outcome), ['reverted', 'reverted', 'failed', 'not_reached']);
    assert.ok(out.hosts[2].output.some((l) => /HELLO_CRASH_ON_START/.test(l)), 'the failed host reports its output');
    const after = await fleetState();
    assert.deepEqual(after.map((s) => s.version), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
    assert.equal(after[2].pid, before[2].pid, 'host 3 never stopped its old version');
    assert.equal(after[3].pid, before[3].pid, 'host 4 was not touched');
    assert.ok(after.every((s) => s.state === 'running'));
    // The reverted hosts popped the failed activation: their rollback target is what it was.
    const st = await conns[0].status('hello');
    assert.equal(st.apps[0].stack.at(-1)?.version, '1.2.0');
  } finally {
    rmSync(join(shared, 'env'), { force: true });
  }
});

/** Adds environment "trio" (the first three agents) to the repo's slipway.yaml. */
function withTrio(): void {
  const file = join(repo.dir, 'slipway.yaml');
  const yaml = readFileSync(file, 'utf8');
  if (yaml.includes('  trio:')) return;
  writeFileSync(file, yaml.replace('  nowhere:', `  trio:\n    hosts: [${agents.slice(0, 3).map((a) => a.address).join(', ')}]\n  nowhere:`));
}

test('a rollback with --batch 1 goes host by host: each host is back before the next one starts', async () => {
  withTrio();
  const d = await cli(repo.dir, 'deploy', 'trio', '1.3.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.deepEqual((await versions()).slice(0, 3), ['1.3.0', '1.3.0', '1.3.0']);
  const r = await cli(repo.dir, 'rollback', 'trio', '--batch', '1');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // The progress lines come in the order things happened: batch n's host is done before batch n+1 starts.
  const at = (re: RegExp) => {
    const i = r.stderr.search(re);
    assert.ok(i >= 0, `${re} in\n${r.stderr}`);
    return i;
  };
  const marks = agents.slice(0, 3).flatMap((a, i) => {
    const host = a.address.replace(/\./g, '\\.');
    return [at(new RegExp(`^batch ${i + 1}/3  ${host}$`, 'm')), at(new RegExp(`^${host}  1\\.3\\.0 → 1\\.2\\.0$`, 'm')), at(new RegExp(`^${host} .* done `, 'm'))];
  });
  assert.deepEqual(marks, [...marks].sort((x, y) => x - y), r.stderr);
  assert.match(r.stdout, /hello is back on 1\.2\.0 on every host of trio/);
  assert.deepEqual(await versions(), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
});

test('a rollback with --batch 1 whose 2nd host fails: the 1st goes forward again to what it ran, the 3rd is untouched', async () => {
  withTrio();
  const before = await fleetState();
  const stackBefore = (await conns[0].status('hello')).apps[0].stack.map((s) => s.version);
  const shared = join(agents[1].stateDir, 'apps', 'hello', 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'env'), 'HELLO_CRASH_ON_START=1\n');
  try {
    const r = await cli(repo.dir, '--json', 'rollback', 'trio', '--batch', '1');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; version: string; batches: string[][]; hosts: { host: string; outcome: string; output: string[]; before: { version: string } }[] };
    assert.equal(out.ok, false);
    assert.equal(out.version, '1.0.0');
    assert.deepEqual(out.batches, agents.slice(0, 3).map((a) => [a.address]));
    assert.deepEqual(out.hosts.map((h) => h.outcome), ['reverted', 'failed', 'not_reached']);
    assert.ok(out.hosts[1].output.some((l) => /HELLO_CRASH_ON_START/.test(l)), 'the failed host reports its output');
    const after = await fleetState();
    assert.deepEqual(after.map((s) => s.version), ['1.2.0', '1.2.0', '1.2.0', '1.2.0']);
    assert.notEqual(after[0].pid, before[0].pid, 'host 1 went back and forward again');
    assert.equal(after[1].pid, before[1].pid, 'host 2 never stopped its old version');
    assert.equal(after[2].pid, before[2].pid, 'host 3 was not touched');
    assert.ok(after.every((s) => s.state === 'running'));
    // Host 1 popped 1.2.0 and pushed it again: its stack, so its rollback target, is what it was.
    assert.deepEqual((await conns[0].status('hello')).apps[0].stack.map((s) => s.version), stackBefore);
  } finally {
    rmSync(join(shared, 'env'), { force: true });
  }
});
