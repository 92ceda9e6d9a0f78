// An in-place upgrade (`upgrade: [cmd]`, as an Erlang relup does it) on a
// real agent, with a fake upgrade command (no Elixir needed): the same pid
// is recorded as the new release in status, metrics, history and the stack,
// and keeps it through scheduled reconciles and an agent restart; rollback
// runs the command downwards; `slipway restart` applies a changed env with a
// real new process. And a hot swap's old version that drains longer than 10 s
// is left to drain through reconciles and an agent restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { tempDir, makeAppRepo, connect, newAgent, cleanup, cli, waitFor, get, appHost, type AppRepo } from '../helpers/env.js';
import { spawn } from 'node:child_process';
import { killAppsUnder, supervisorPid, CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import type { AgentConnection } from '../../coordinator/client.js';

let dir: string;
let agent: LocalAgent;
let repo: AppRepo;
let conn: AgentConnection;
let relupLog: string;

before(async () => {
  dir = tempDir('in-place');
  // Reconcile every second, so that a test sees many of them.
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, extraConfig: "reconcile_schedule: '* * * * * *'" });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  conn = connect(agent);
  relupLog = join(dir, 'relup.log');
});

after(async () => {
  conn.close();
  await agent.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  cleanup(dir);
});

function yaml(edit: (s: string) => string): void {
  const file = join(repo.dir, 'slipway.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

const statePath = () => join(agent.stateDir, 'apps', 'hello', 'state.json');
const status = async () => (await conn.status('hello')).apps[0];

/** Waits until state.json was written n more times (each scheduled reconcile writes it). */
async function reconciles(n: number): Promise<void> {
  let last = statSync(statePath()).mtimeMs;
  for (let i = 0; i < n; i++) {
    await waitFor(() => { const m = statSync(statePath()).mtimeMs; if (m === last) return false; last = m; return true; }, 'a reconcile');
  }
}

async function metrics(): Promise<string> {
  const a = agent.httpAddress;
  return new Promise((resolve, reject) => {
    http.get({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function restartAgent(): Promise<void> {
  conn.close();
  await agent.stop('SIGKILL');
  await agent.start();
  conn = connect(agent);
  await waitFor(async () => (await status())?.state === 'running', 'the app running after the agent restart');
}

test('slipway env set before the first deploy: accepted, and the first start has it', async () => {
  const e = await cli(repo.dir, 'env', 'staging', 'set', 'HELLO_GREETING=salut');
  assert.equal(e.code, 0, e.stdout + e.stderr);
  const l = await cli(repo.dir, '--json', 'env', 'staging', 'list', '--show');
  assert.match(l.stdout, /"HELLO_GREETING": ?"salut"/);
  assert.equal(agent.logged('set before the app\'s first deploy').length, 1);
});

test('a relup-like upgrade command: same pid, recorded as the new release everywhere, through reconciles, an agent restart and a rollback', async () => {
  yaml((s) => s.replace(/^ {2}upgrade: .*$/m, [
    `  upgrade: [sh, -c, 'echo "$0 from $SLIPWAY_FROM_VERSION pid $SLIPWAY_PID" >> ${relupLog}', '{version}']`,
    `  version_probe: [sh, -c, 'tail -n 1 ${relupLog} | cut -d" " -f1']`,
  ].join('\n')).replace(/^# tasks: .*$/m, 'tasks:\n  echo: [sh, -c, \'echo "pid=$SLIPWAY_PID version=$SLIPWAY_VERSION args=$*"; cat\', echo]'));
  for (const v of ['2.0.0', '2.1.0']) {
    repo.release(v);
    assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  }
  const first = await cli(repo.dir, '--json', 'deploy', 'staging', '2.0.0');
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await status()).last_activation?.strategy, 'restart', 'a first deploy is a plain start');
  const pid = (await status()).pid;
  assert.match((await get(appHost(agent), repo.port, '/')).body, /^salut/, 'the setting made before the first deploy');
  const up = await cli(repo.dir, 'deploy', 'staging', '2.1.0');
  assert.equal(up.code, 0, up.stdout + up.stderr);
  let st = await status();
  assert.deepEqual([st.pid, st.version, st.desired_version, st.last_activation?.strategy], [pid, '2.1.0', '2.1.0', 'command']);
  assert.deepEqual(st.stack.map((a) => a.version), ['2.0.0', '2.1.0']);
  assert.equal(readFileSync(relupLog, 'utf8'), `2.1.0 from 2.0.0 pid ${pid}\n`);
  assert.match(await metrics(), /^slipway_app_info\{app="hello",version="2\.1\.0"\} 1$/m);
  const rec = (JSON.parse(readFileSync(statePath(), 'utf8')) as { processes: { pid: number; version: string; started_as?: { version: string } }[] }).processes;
  assert.deepEqual(rec.map((p) => [p.pid, p.version, p.started_as?.version]), [[pid, '2.1.0', '2.0.0']]);
  const hist = await cli(repo.dir, '--json', 'history', 'staging');
  assert.match(hist.stdout, /"to_version": ?"2\.1\.0"/);

  await reconciles(3);
  st = await status();
  assert.deepEqual([st.pid, st.version, st.state], [pid, '2.1.0', 'running'], 'scheduled reconciles keep the upgraded process');
  assert.equal(agent.logged('stopping hello').length, 0);

  await restartAgent();
  st = await status();
  assert.deepEqual([st.pid, st.version], [pid, '2.1.0'], 'an agent restart keeps it');
  await reconciles(2);
  assert.equal((await status()).pid, pid);
  assert.equal(agent.logged('stopping hello').length, 0);

  // The supervising process killed: its successor adopts the same pid (knowing it by 2.0.0, as it was started); the agent keeps 2.1.0.
  const sup = supervisorPid(agent.stateDir) as number;
  process.kill(sup, 'SIGKILL');
  await waitFor(() => { const p = supervisorPid(agent.stateDir); return p && p !== sup && processStartTicks(p) !== undefined; }, 'a successor of the supervising process');
  await reconciles(2);
  st = await status();
  assert.deepEqual([st.pid, st.version, st.state], [pid, '2.1.0', 'running'], 'a supervisor restart keeps it');
  await restartAgent();
  assert.deepEqual([(await status()).pid, (await status()).version], [pid, '2.1.0'], 'and an agent restart after it');
  assert.equal(agent.logged('stopping hello').length, 0);

  const back = await cli(repo.dir, 'rollback', 'staging');
  assert.equal(back.code, 0, back.stdout + back.stderr);
  st = await status();
  assert.deepEqual([st.pid, st.version, st.last_activation?.strategy], [pid, '2.0.0', 'command']);
  assert.deepEqual(st.stack.map((a) => a.version), ['2.0.0']);
  assert.equal(readFileSync(relupLog, 'utf8').split('\n')[1], `2.0.0 from 2.1.0 pid ${pid}`, 'the command ran downwards');
  await reconciles(2);
  assert.equal((await status()).pid, pid);
});

test('slipway restart of an app with an upgrade command applies a changed env in a new process (a hot swap)', async () => {
  const before = await status();
  assert.equal((await cli(repo.dir, 'env', 'staging', 'set', 'HELLO_GREETING=bonjour', 'ERL_FLAGS=+K true -heart')).code, 0);
  const r = await cli(repo.dir, 'restart', 'staging');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const st = await status();
  assert.notEqual(st.pid, before.pid);
  assert.equal(st.last_activation?.strategy, 'hot');
  assert.match((await get(appHost(agent), repo.port, '/')).body, /^bonjour/);
  assert.equal(readFileSync(relupLog, 'utf8').trim().split('\n').length, 2, 'the upgrade command did not run');
  assert.match(agent.logged('turns Erlang\'s heart on').join('\n'), /ERL_FLAGS has -heart.*the supervising process is the heart/);
  assert.equal((await cli(repo.dir, 'env', 'staging', 'unset', 'ERL_FLAGS')).code, 0);
});

test('slipway run ENV TASK -- ARGS with --stdin: arguments appended, stdin passed, SLIPWAY_PID the running process', async () => {
  const st = await status();
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, 'run', 'staging', 'echo', '--stdin', '--', 'a b', '--not-an-option'], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end('line one\nline two\n');
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n').map((l) => l.replace(/^.*? \| /, ''));
  assert.deepEqual(lines.slice(0, 3), [`pid=${st.pid} version=${st.version} args=a b --not-an-option`, 'line one', 'line two']);
  const plain = await cli(repo.dir, 'run', 'staging', 'echo');
  assert.equal(plain.code, 0);
  assert.match(plain.stdout, new RegExp(`pid=${st.pid} version=\\S+ args=$`, 'm'), 'no args, no stdin (cat ends at once)');
  const tooMany = await cli(repo.dir, 'run', 'staging', 'echo', '--all', '--stdin');
  assert.equal(tooMany.code, 2);
});

test('slipway run --stdin streams: a line reaches the task while the input is still open, and input beyond one gRPC message (5 MB) goes through', async () => {
  const child = spawn(process.execPath, [CLI_BIN, 'run', 'staging', 'echo', '--stdin'], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  child.stdin.write('first line\n');
  // Answered before any more input is sent, let alone its end: the input streams.
  await waitFor(() => /\| first line$/m.test(stdout), () => `the first line echoed while the input is open (stdout: ${stdout.slice(-300)}; stderr: ${stderr.slice(-300)})`);
  const line = `${'x'.repeat(99)}\n`;
  for (let i = 0; i < 50_000; i++) {
    if (!child.stdin.write(line)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end('last line\n');
  assert.equal(await exited, 0, stderr.slice(-2000));
  const echoed = stdout.split('\n').map((l) => l.replace(/^.*? \| /, ''));
  assert.equal(echoed.filter((l) => l === 'x'.repeat(99)).length, 50_000);
  assert.equal(echoed.filter((l) => l).at(-1), 'last line');
});

test('an old version draining past 10 s after a hot swap is left to its own drain_timeout_s by reconciles and an agent restart', async () => {
  const trapLog = join(dir, 'signals.log');
  yaml((s) => s
    .replace(/^ {2}upgrade: .*\n {2}version_probe: .*$/m, '  upgrade: hot')
    .replace(/^ {2}command: \[node, server\.js\]$/m, `  command: [sh, -c, 'trap "echo TERM $$SLIPWAY_VERSION >> ${trapLog}" TERM; while :; do sleep 0.2; done']`)
    .replace(/^ {2}notify: true$/m, '  notify: false\n  min_uptime_s: 0.3')
    .replace(/^ {2}health:\n(^ {4}.*\n)+/m, '')
    .replace(/drain_timeout_s: \d+/, 'drain_timeout_s: 15'));
  for (const v of ['4.0.0', '4.1.0']) {
    repo.release(v);
    const b = await cli(repo.dir, 'build', v);
    assert.equal(b.code, 0, b.stderr);
  }
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '4.0.0')).code, 0);
  const old = await status();
  const swapped = Date.now();
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '4.1.0')).code, 0);
  await waitFor(() => { try { return readFileSync(trapLog, 'utf8').includes('TERM 4.0.0'); } catch { return false; } }, 'the old version\'s stop signal');
  await reconciles(2);
  await restartAgent();
  await reconciles(2);
  // Past the 10 s that a reconcile once armed: it still drains, and got one stop signal only.
  await waitFor(() => Date.now() - swapped > 12_000, '12 s after the swap', 20_000);
  assert.ok(processStartTicks(old.pid) !== undefined, 'the old version still drains');
  assert.equal(readFileSync(trapLog, 'utf8'), 'TERM 4.0.0\n');
  assert.equal(agent.logged('stopping hello').length, 0, 'reconcile ended nothing');
  await waitFor(() => processStartTicks(old.pid) === undefined, 'the old version killed at its own deadline', 30_000);
});
