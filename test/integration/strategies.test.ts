// The other ways to switch versions: an upgrade command run inside the
// running release (Erlang relups), and, beyond stop.max_draining versions
// draining at once, the oldest killed early.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import type { AgentConnection } from '../../coordinator/client.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conn: AgentConnection;

before(async () => {
  dir = tempDir('strategies');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  conn = connect(agents[0]);
});

after(async () => {
  conn.close();
  await stopAgents(agents);
  cleanup(dir);
});

function setUpgrade(line: string): void {
  const file = join(repo.dir, 'slipway.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}upgrade: .*$/m, `  upgrade: ${line}`));
}

test('upgrade command: runs in the running release with {version}; the same process carries on', async () => {
  setUpgrade('[sh, -c, "echo relup to {version} from $PWD >> relup.log", "{version}"]');
  repo.release('2.0.0');
  repo.release('2.1.0');
  for (const v of ['2.0.0', '2.1.0']) assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '2.0.0')).code, 0);
  const pid = (await conn.status('hello')).apps[0].pid;
  const d = await cli(repo.dir, '--json', 'deploy', 'staging', '2.1.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const st = (await conn.status('hello')).apps[0];
  assert.equal(st.pid, pid, 'no new process');
  assert.equal(st.version, '2.1.0');
  assert.equal(st.last_activation?.strategy, 'command');
  const releases = join(agents[0].stateDir, 'apps', 'hello', 'releases');
  const old = readdirSync(releases).find((n) => n.startsWith('2.0.0-')) as string;
  assert.match(readFileSync(join(releases, old, 'relup.log'), 'utf8'), new RegExp(`relup to 2\\.1\\.0 from .*${old}`));
});

test('upgrade command that fails: reported with its output, the running version keeps running', async () => {
  setUpgrade('[sh, -c, "echo cannot load the new code >&2; exit 4"]');
  repo.release('2.2.0');
  assert.equal((await cli(repo.dir, 'build', '2.2.0')).code, 0);
  const before = (await conn.status('hello')).apps[0];
  const d = await cli(repo.dir, 'deploy', 'staging', '2.2.0');
  assert.equal(d.code, 1);
  assert.match(d.stderr, /exited with code 4/);
  assert.match(d.stderr, /cannot load the new code/);
  const st = (await conn.status('hello')).apps[0];
  assert.equal(st.pid, before.pid);
  assert.equal(st.version, '2.1.0');
  assert.equal(st.state, 'running');
});

test('beyond stop.max_draining (1 here) versions draining at once, the oldest is SIGKILLed when the next swap begins, logged and counted', async () => {
  setUpgrade('hot');
  const file = join(repo.dir, 'slipway.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/drain_timeout_s: \d+/, 'drain_timeout_s: 120\n    max_draining: 1'));
  repo.release('3.0.0');
  repo.release('3.1.0');
  repo.release('3.2.0');
  for (const v of ['3.0.0', '3.1.0', '3.2.0']) assert.equal((await cli(repo.dir, 'build', v)).code, 0);
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '3.0.0')).code, 0);
  const oldPid = (await conn.status('hello')).apps[0].pid;
  // A long request keeps 3.0.0 draining after the next swap.
  let opened!: () => void;
  const isOpen = new Promise<void>((r) => { opened = r; });
  const long = new Promise<string>((resolve) => {
    http.get({ host: appHost(agents[0]), port: repo.port, path: '/stream', agent: false }, (res) => {
      res.once('data', () => opened());
      res.on('close', () => resolve('closed'));
    }).on('error', () => resolve('error'));
  });
  await isOpen;
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '3.1.0')).code, 0);
  assert.ok(processStartTicks(oldPid) !== undefined, '3.0.0 is still draining');
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '3.2.0')).code, 0);
  await waitFor(() => processStartTicks(oldPid) === undefined, '3.0.0 to be gone', 30_000);
  assert.match(await long, /closed|error/);
  const appLog = readFileSync(join(agents[0].stateDir, 'apps', 'hello', 'logs', 'app.log'), 'utf8');
  assert.match(appLog, new RegExp(`pid ${oldPid} was killed by SIGKILL \\(stopped by the agent\\)`), 'killed by the agent, not ended by its own drain timeout');
  assert.equal(agents[0].logged('before its drain deadline').length, 1);
  const metrics = await new Promise<string>((resolve, reject) => {
    const a = agents[0].httpAddress;
    http.get({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)), path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  assert.match(metrics, /^slipway_drain_killed_total\{app="hello"\} 1$/m);
});
