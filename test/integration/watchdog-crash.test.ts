// The watchdog's decisions on real processes: a crash loop right after an
// activation rolls back on its own; a stop leaves no process of the app's
// group; logs are streamed and rotated; the app's open-file limit is shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tempDir, makeAppRepo, newAgent, connect, cleanup, cli, waitFor, type AppRepo } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import type { AppStatus__Output } from '../../proto/gen/slipway/v1/AppStatus.js';

let dir: string;
let agent: LocalAgent;
let repo: AppRepo;

before(async () => {
  dir = tempDir('watchdog-crash');
  // Small log files, so that rotation shows after a few starts.
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, extraConfig: 'limits: { log_bytes: 400, log_files: 2 }' });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  for (const v of ['1.0.0', '1.1.0']) {
    repo.release(v);
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  }
});

after(async () => {
  await agent.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  cleanup(dir);
});

async function status(): Promise<AppStatus__Output> {
  const conn = connect(agent);
  try {
    return (await conn.status('hello')).apps[0];
  } finally {
    conn.close();
  }
}

function sharedEnv(text: string): void {
  const shared = join(agent.stateDir, 'apps', 'hello', 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'env'), text);
}

test('a crash loop right after an activation rolls back to the rollback target on its own', async () => {
  for (const v of ['1.0.0', '1.1.0']) assert.equal((await cli(repo.dir, 'deploy', 'staging', v)).code, 0);
  const running = await status();
  assert.equal(running.version, '1.1.0');
  // From now on 1.1.0 cannot start; 1.0.0 still can.
  sharedEnv('HELLO_CRASH_ON_START=1.1.0\n');
  try {
    process.kill(running.pid, 'SIGKILL');
    const back = await waitFor(async () => {
      const s = await status();
      return s.state === 'running' && s.version === '1.0.0' ? s : undefined;
    }, 'the automatic rollback to 1.0.0', 90_000).catch((err: Error) => {
      // What the agent did meanwhile, for whoever reads a failure.
      throw new Error(`${err.message}; the agent's last log lines:\n${agent.logLines.slice(-40).join('\n')}`);
    });
    assert.equal(back.last_activation?.reason, 'auto_rollback');
    assert.match(back.last_activation?.message ?? '', /crash loop of 1\.1\.0/);
    assert.equal(back.stack.at(-1)?.version, '1.0.0', 'the failed release was popped');
    assert.ok(agent.logged('rolling back to 1.0.0').length > 0);
  } finally {
    sharedEnv('');
  }
});

function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

test('a stop leaves no process of the app\'s group, even a child the app forked; start brings it back', async () => {
  sharedEnv('HELLO_SPAWN_CHILD=1\n');
  try {
    assert.equal((await cli(repo.dir, 'restart', 'staging')).code, 0);
    const s = await status();
    await waitFor(() => groupMembers(s.pid).length >= 2, 'the app and its child in one group');
    const stop = await cli(repo.dir, 'stop', 'staging');
    // What the agent did meanwhile, for whoever reads a failure (CI once saw this stop never end).
    assert.equal(stop.code, 0, `${stop.stdout}${stop.stderr}\nthe agent's last log lines:\n${agent.logLines.slice(-40).join('\n')}`);
    await waitFor(() => groupMembers(s.pid).length === 0, 'no process left in the group', 10_000);
    assert.equal((await status()).state, 'stopped');
  } finally {
    sharedEnv('');
  }
  const start = await cli(repo.dir, 'start', 'staging');
  assert.equal(start.code, 0, start.stdout + start.stderr);
  assert.equal((await status()).state, 'running');
});

test('slipway logs prints the app\'s output with the host; the log files rotate by size', async () => {
  const r = await cli(repo.dir, 'logs', 'staging', '-n', '5');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 0 && lines.length <= 5);
  assert.ok(lines.every((l) => l.startsWith(`${agent.address} | `)));
  assert.match(r.stdout, /hello|slipway/);
  const logs = readdirSync(join(agent.stateDir, 'apps', 'hello', 'logs')).sort();
  assert.deepEqual(logs.filter((n) => n.startsWith('app.log')), ['app.log', 'app.log.1', 'app.log.2'], 'rotated at 400 bytes, 2 files kept');
});

test('slipway logs -f follows new output until interrupted', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI_BIN } = await import('../../scripts/local-fleet.js');
  const child = spawn(process.execPath, [CLI_BIN, 'logs', 'staging', '-n', '0', '-f'], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  // Restart until a restart's lines show up in the follower (the first may come before it follows).
  await waitFor(async () => {
    if (/ready/.test(out)) return true;
    assert.equal((await cli(repo.dir, 'restart', 'staging')).code, 0);
    return /ready/.test(out);
  }, 'a restart\'s lines to be followed', 60_000);
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
});

test('status shows the app\'s real open-file limit', async () => {
  const s = await status();
  const limits = readFileSync(`/proc/${s.pid}/limits`, 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1]);
  await waitFor(async () => Number((await status()).open_files_limit) === soft, 'the sampled limit');
  const r = await cli(repo.dir, 'status', 'staging');
  assert.match(r.stdout, /NOFILE/);
  assert.match(r.stdout, new RegExp(`\\b${soft}\\b`));
});
