// Apps outlive the agent: SIGKILL or SIGTERM of the agent leaves the app
// serving with the same pid, and the next agent re-attaches; a dead
// supervising process is replaced by one that adopts the app; the supervising
// process and its holder dead together, and a full reboot, bring the app back
// on its desired release.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, get, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import { supervisorPid, killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import type { AppStatus__Output } from '../../proto/gen/slipway/v1/AppStatus.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('watchdog');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  for (const v of ['1.0.0', '1.1.0']) {
    repo.release(v, { 'message.txt': `release ${v}\n` });
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  }
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

async function status(): Promise<AppStatus__Output> {
  const conn = connect(agents[0]);
  try {
    return (await conn.status('hello')).apps[0];
  } finally {
    conn.close();
  }
}

function load(): Load {
  return new Load({ host: appHost(agents[0]), port: repo.port, keepAliveClients: 2, freshClients: 2, intervalMs: 20, maxDurationMs: 120_000 }).start();
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`${signal} of the agent: the app keeps its pid and serves throughout; the next agent re-attaches and can hot-swap`, async () => {
    const a = agents[0];
    const before = await status();
    assert.equal(before.state, 'running');
    const target = before.version === '1.0.0' ? '1.1.0' : '1.0.0';
    const l = load();
    try {
      await a.stop(signal);
      await waitFor(() => l.outcomes.filter((o) => o.ok).length > 20, 'requests answered while no agent runs');
      await a.start();
      const after = await waitFor(async () => {
        const s = await status();
        return s.state === 'running' ? s : undefined;
      }, 'the new agent to report the app');
      assert.equal(after.pid, before.pid, 'same pid');
      assert.equal(after.started_at, before.started_at, 'same start time, so the same uptime');
      assert.equal(after.restarts, before.restarts, 'same restart count');
      assert.ok(a.logged('attached to the running supervising process').length > 0);
      const d = await cli(repo.dir, 'deploy', 'staging', target);
      assert.equal(d.code, 0, d.stdout + d.stderr);
    } finally {
      await l.stop();
    }
    const summary = l.summary();
    console.log(`# ${signal}: ${summary.requests} requests, ${summary.failed} failed, ${summary.retried} retried`);
    assert.equal(summary.failed, 0, JSON.stringify(summary.failures.slice(0, 3)));
    assert.equal((await status()).version, target);
  });
}

test('a crash: the app is restarted from the same release; new connections wait in the backlog meanwhile', async () => {
  const before = await status();
  process.kill(before.pid, 'SIGKILL');
  // Fresh connections made while the app is down are queued by the held socket, not refused.
  const answers = await Promise.all(Array.from({ length: 5 }, () => get(appHost(agents[0]), repo.port)));
  assert.ok(answers.every((r) => r.status === 200));
  const after = await waitFor(async () => {
    const s = await status();
    return s.state === 'running' && s.pid !== before.pid ? s : undefined;
  }, 'the app to run again');
  assert.equal(after.version, before.version);
  assert.equal(after.restarts, before.restarts + 1);
});

test('the supervising process killed: its successor adopts the app (same pid, serving throughout)', async () => {
  const a = agents[0];
  const before = await status();
  const sup = supervisorPid(a.stateDir) as number;
  assert.ok(sup > 0);
  const l = load();
  try {
    process.kill(sup, 'SIGKILL');
    await waitFor(() => {
      const p = supervisorPid(a.stateDir);
      return p && p !== sup && processStartTicks(p) !== undefined ? p : undefined;
    }, 'a successor of the supervising process', 30_000);
    await waitFor(() => a.logged('the new supervising process adopted the running apps').length > 0, 'the agent to see the adoption');
    await waitFor(() => l.outcomes.filter((o) => o.ok).length > 40, 'answers after the adoption');
  } finally {
    await l.stop();
  }
  assert.equal(l.summary().failed, 0, JSON.stringify(l.summary().failures.slice(0, 3)));
  const after = await status();
  assert.equal(after.state, 'running');
  assert.equal(after.pid, before.pid, 'same pid');
  assert.equal(after.restarts, before.restarts);
  assert.equal((JSON.parse((await get(appHost(a), repo.port)).body) as { pid: number }).pid, before.pid);
});

test('the supervising process and its holder killed together: the app is ended and started again on its desired release', async () => {
  const a = agents[0];
  const before = await status();
  const sup = supervisorPid(a.stateDir) as number;
  const stat = readFileSync(`/proc/${sup}/stat`, 'utf8');
  process.kill(-Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]), 'SIGKILL');
  const after = await waitFor(async () => {
    const s = await status();
    return s.state === 'running' && s.pid !== before.pid ? s : undefined;
  }, 'the app to run again under a new supervising process', 60_000);
  assert.equal(after.version, before.version);
  assert.equal(processStartTicks(before.pid), undefined, 'the old app process is gone');
  assert.notEqual(supervisorPid(a.stateDir), sup);
  assert.equal((JSON.parse((await get(appHost(a), repo.port)).body) as { pid: number }).pid, after.pid);
});

test('a full reboot (agent, supervising process and app all killed) brings the app back on its desired release', async () => {
  const a = agents[0];
  const before = await status();
  await a.stop('SIGKILL');
  killAppsUnder(a.stateDir);
  await waitFor(() => processStartTicks(before.pid) === undefined, 'the app to be gone');
  await a.start();
  const after = await waitFor(async () => {
    const s = await status();
    return s.state === 'running' ? s : undefined;
  }, 'the app to be back');
  assert.equal(after.version, before.version);
  assert.notEqual(after.pid, before.pid);
  assert.equal((JSON.parse((await get(appHost(a), repo.port)).body) as { version: string }).version, before.version);
});
