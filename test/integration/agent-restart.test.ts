// An agent killed with SIGKILL and started again comes back with the desired
// release running and no stray process of the app left over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readlinkSync } from 'node:fs';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, get, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import { AgentConnection } from '../../coordinator/client.js';
import { processStartTicks } from '../../agent/process/proc.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('restart');
  agents = await startAgents(dir, 1);
  repo = makeAppRepo(dir, agents.map((a) => a.address));
  repo.release('1.0.0');
  repo.release('1.1.0', { 'message.txt': 'the desired one\n' });
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

function pidsOfApp(stateDir: string): number[] {
  // Every process whose working directory is one of this agent's releases.
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cwd = readlinkSync(`/proc/${p}/cwd`);
      if (cwd.startsWith(join(stateDir, 'apps'))) out.push(Number(p));
    } catch { /* gone or not ours */ }
  }
  return out;
}

test('SIGKILL of the agent, then a start: the desired release runs again and nothing stray is left', async () => {
  const a = agents[0];
  for (const v of ['1.0.0', '1.1.0']) {
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
    const d = await cli(repo.dir, 'deploy', 'staging', v);
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }
  const conn = new AgentConnection(a.address, { insecure: true }, 5000);
  const before = (await conn.status('hello')).apps[0];
  conn.close();
  assert.equal(before.version, '1.1.0');
  const oldPid = before.pid;
  assert.ok(processStartTicks(oldPid) !== undefined);

  await a.stop('SIGKILL');
  // The app outlives the agent's death for now; the next agent must deal with it.
  await a.start();
  const conn2 = new AgentConnection(a.address, { insecure: true }, 5000);
  try {
    const now = await waitFor(async () => {
      const s = (await conn2.status('hello')).apps[0];
      return s.state === 'running' && s.pid !== oldPid ? s : undefined;
    }, 'the app to run again under the new agent');
    assert.equal(now.version, '1.1.0');
    assert.equal(processStartTicks(oldPid), undefined, 'the old process is gone');
    const body = JSON.parse((await get(appHost(a), repo.port)).body) as { version: string; message: string; pid: number };
    assert.equal(body.version, '1.1.0');
    assert.equal(body.pid, now.pid);
    assert.deepEqual(pidsOfApp(a.stateDir), [now.pid], 'exactly one app process runs');
    assert.ok(a.logged('ended an app process left by an earlier agent').length > 0);
  } finally {
    conn2.close();
  }
});
