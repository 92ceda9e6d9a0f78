// The supervising process SIGKILLed under paced load: its holder starts a
// successor that adopts the running app (same pid, same listening socket, its
// output still reaching the app log), so clients see nothing; a crash after
// the adoption is still restarted; a hot swap after it still hands the same
// socket to the new version; a kill right after a swap lets the old version
// finish draining.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import { Load, type LoadSummary } from '../helpers/load.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import { supervisorPid, type LocalAgent } from '../../scripts/local-fleet.js';
import { socketDirFor, socketPathFor } from '../../agent/runtime/supervisor/protocol.js';
import { liveHolder } from '../../agent/runtime/supervisor/handover.js';
import type { AppStatus__Output } from '../../proto/gen/slipway/v1/AppStatus.js';

let dir: string;
let agent: LocalAgent;
let repo: AppRepo;

before(async () => {
  dir = tempDir('supervisor-kill');
  [agent] = await startAgents(dir, 1) as [LocalAgent];
  repo = await makeAppRepo(dir, [agent.address]);
  for (const v of ['1.0.0', '1.1.0']) {
    repo.release(v, { 'message.txt': `release ${v}\n` });
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  }
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await stopAgents([agent]);
  cleanup(dir);
});

async function status(): Promise<AppStatus__Output> {
  const conn = connect(agent);
  try {
    return (await conn.status('hello')).apps[0] as AppStatus__Output;
  } finally {
    conn.close();
  }
}

function load(): Load {
  return new Load({ host: appHost(agent), port: repo.port, keepAliveClients: 2, freshClients: 2, intervalMs: 20, maxDurationMs: 120_000 }).start();
}

/** The longest time without any answer, over the load's run. */
function longestGap(l: Load): number {
  const ends = l.outcomes.filter((o) => o.ok).map((o) => o.end).sort((a, b) => a - b);
  let gap = 0;
  for (let k = 1; k < ends.length; k++) gap = Math.max(gap, (ends[k] as number) - (ends[k - 1] as number));
  return gap;
}

function report(what: string, l: Load, s: LoadSummary): void {
  console.log(`# ${what}: ${s.requests} requests, ${s.failed} failed, ${s.retried} retried, longest gap between answers ${longestGap(l).toFixed(0)} ms`);
}

function listeningSocket(pid: number): string {
  return readlinkSync(`/proc/${pid}/fd/3`);
}

function appLog(): string {
  return readFileSync(join(agent.stateDir, 'apps', 'hello', 'logs', 'app.log'), 'utf8');
}

/** Kills the supervising process and waits until a successor answers (it writes supervisor.pid once it listens). */
async function killSupervisor(): Promise<{ old: number; next: number; ms: number }> {
  const old = supervisorPid(agent.stateDir) as number;
  assert.ok(old > 0);
  assert.ok(liveHolder(socketDirFor(agent.stateDir), socketPathFor(agent.stateDir)), 'a holder runs beside the supervising process');
  const t0 = performance.now();
  process.kill(old, 'SIGKILL');
  const next = await waitFor(() => {
    const p = supervisorPid(agent.stateDir);
    return p && p !== old && processStartTicks(p) !== undefined ? p : undefined;
  }, 'a successor of the supervising process', 30_000);
  const ms = performance.now() - t0;
  const rss = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  const holder = liveHolder(socketDirFor(agent.stateDir), socketPathFor(agent.stateDir));
  console.log(`# successor ${next} listening ${ms.toFixed(0)} ms after the kill; RSS: supervising process ${rss(next)} MiB, holder ${holder ? rss(holder) : '?'} MiB`);
  return { old, next, ms };
}

test('SIGKILL of the supervising process in steady state, three times: the app keeps its pid and socket, no request fails', async () => {
  const before = await status();
  assert.equal(before.state, 'running');
  const socket = listeningSocket(before.pid);
  const l = load();
  try {
    for (let k = 0; k < 3; k++) {
      await waitFor(() => l.outcomes.filter((o) => o.ok).length > 30 * (k + 1), 'answers before the kill');
      await killSupervisor();
      await waitFor(() => agent.logged('the new supervising process adopted the running apps').length > k, 'the agent to see the adoption');
    }
    await waitFor(() => l.outcomes.filter((o) => o.ok).length > 150, 'answers after the kills');
  } finally {
    await l.stop();
  }
  const s = l.summary();
  report('3 supervisor kills, steady state', l, s);
  assert.equal(s.failed, 0, JSON.stringify(s.failures.slice(0, 3)));
  const after = await status();
  assert.equal(after.state, 'running');
  assert.equal(after.pid, before.pid, 'same app pid');
  assert.equal(after.restarts, before.restarts, 'no restart');
  assert.equal(listeningSocket(after.pid), socket, 'same listening socket');
  assert.ok(l.outcomes.filter((o) => o.ok).every((o) => o.pid === before.pid), 'every answer came from the same process');
});

test('a crash after the adoption is noticed and the app restarted on the same socket', async () => {
  const before = await status();
  const socket = listeningSocket(before.pid);
  process.kill(before.pid, 'SIGKILL');
  const after = await waitFor(async () => {
    const s = await status();
    return s.state === 'running' && s.pid !== before.pid ? s : undefined;
  }, 'the app to run again', 30_000);
  assert.equal(after.restarts, before.restarts + 1);
  assert.equal(listeningSocket(after.pid), socket);
});

test('a hot swap after the adoption, then a kill right after the next swap: no request fails, the adopted old version drains into the app log', async () => {
  const l = load();
  try {
    await killSupervisor();
    await waitFor(async () => (await status()).state === 'running' ? true : undefined, 'the agent to report the app');
    const before = await status();
    const socket = listeningSocket(before.pid);
    const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const swapped = await status();
    assert.equal(swapped.version, '1.1.0');
    assert.notEqual(swapped.pid, before.pid);
    assert.equal(listeningSocket(swapped.pid), socket, 'the new version got the same listening socket');
    // The old one drained under the adopting supervising process: its own lines reached the log through the handed-over pipe.
    await waitFor(() => appLog().includes(`pid ${before.pid} exited`) ? true : undefined, 'the old version\'s exit in the app log');
    assert.match(appLog(), /SIGTERM: draining/);

    // A swap back, and the supervising process killed while the old version drains.
    const d2 = cli(repo.dir, 'deploy', 'staging', '1.0.0');
    await waitFor(async () => (await status()).version === '1.0.0' ? true : undefined, 'the swap back', 60_000);
    await killSupervisor();
    assert.equal((await d2).code, 0);
    await waitFor(() => processStartTicks(swapped.pid) === undefined ? true : undefined, 'the drained version to be gone', 60_000);
    await waitFor(() => l.outcomes.filter((o) => o.ok && o.version === '1.0.0').length > 50, 'answers after the swap back');
  } finally {
    await l.stop();
  }
  const s = l.summary();
  report('supervisor kill after the adoption and during a drain, with two hot swaps', l, s);
  assert.equal(s.failed, 0, JSON.stringify(s.failures.slice(0, 3)));
  const end = await status();
  assert.equal(end.state, 'running');
  assert.equal(end.version, '1.0.0');
});

test('the agent and the supervising process killed together: the agent that comes back finds the adopted app (same pid)', async () => {
  const before = await status();
  const l = load();
  try {
    await agent.stop('SIGKILL');
    await killSupervisor();
    await waitFor(() => l.outcomes.filter((o) => o.ok).length > 40, 'answers while no agent runs');
    await agent.start();
    const after = await waitFor(async () => {
      const s = await status();
      return s.state === 'running' ? s : undefined;
    }, 'the new agent to report the app');
    assert.equal(after.pid, before.pid);
    assert.equal(after.restarts, before.restarts);
  } finally {
    await l.stop();
  }
  const s = l.summary();
  report('agent and supervisor killed together', l, s);
  assert.equal(s.failed, 0, JSON.stringify(s.failures.slice(0, 3)));
});

test('the holder killed: the supervising process starts a new one, and a later kill of the supervising process is still survived', async () => {
  const before = await status();
  const dirOf = socketDirFor(agent.stateDir);
  const path = socketPathFor(agent.stateDir);
  const holder = liveHolder(dirOf, path) as number;
  process.kill(holder, 'SIGKILL');
  await waitFor(() => {
    const h = liveHolder(dirOf, path);
    return h && h !== holder ? h : undefined;
  }, 'a new holder', 30_000);
  await killSupervisor();
  await waitFor(() => agent.logged('the new supervising process adopted the running apps').length > 0 ? true : undefined, 'the adoption');
  const after = await waitFor(async () => {
    const s = await status();
    return s.state === 'running' ? s : undefined;
  }, 'the app reported running');
  assert.equal(after.pid, before.pid);
});
