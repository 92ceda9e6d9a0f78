// Words that match what happened (issue #13 item 12), with real agents, the
// real CLI and real signals: a first deploy does not speak of a running
// version, a re-deploy of what runs is "unchanged", Ctrl-C once every host
// has switched is no failure, RESTARTS starts again with a new version, and
// `slipway status` fits an 80-column terminal (tmux) while --wide shows all,
// the hosts' facts too. The pure parts are in test/unit/words.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, waitFor, HELLO, type AppRepo } from '../helpers/env.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let hosts: string[];
const socket = `slipway-words-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(async () => {
  dir = tempDir('words');
  agents = await startAgents(dir, 2);
  hosts = agents.map((a) => a.address);
  repo = await makeAppRepo(dir, hosts);
});

after(async () => {
  try { tmux('kill-server'); } catch { /* no server left */ }
  await stopAgents(agents ?? []);
  cleanup(dir);
});

/** The CLI as a child whose output the test reads while it runs (to signal it at the right moment). */
function startCli(...args: string[]) {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

async function build(version: string, files: Record<string, string> = {}): Promise<void> {
  repo.release(version, files);
  const r = await cli(repo.dir, 'build', version);
  assert.equal(r.code, 0, r.stderr);
}

async function statusJson(): Promise<{ hosts: { host: string; app: { version: string; pid: number; restarts: number; state: string } | null; host_facts: { os: { distro: string } } | null }[] }> {
  const r = await cli(repo.dir, '--json', 'status', 'staging');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Awaited<ReturnType<typeof statusJson>>;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a first deploy says "started", never "beside the running version"; deploying what runs again says unchanged, exit 0', async () => {
  await build('1.0.0');
  const first = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(first.code, 0, first.stderr);
  for (const h of hosts) assert.match(first.stderr, new RegExp(`${esc(h)}\\s+\\+\\d+\\.\\d\\ds starting\\s+started 1\\.0\\.0 \\(pid \\d+\\)$`, 'm'), first.stderr);
  assert.doesNotMatch(first.stderr, /beside the running/);
  assert.match(first.stdout, /hello 1\.0\.0 runs on every host of staging \(2 switched\)/);

  const again = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(again.code, 0, again.stdout + again.stderr);
  for (const h of hosts) assert.match(again.stdout, new RegExp(`^${esc(h)}\\s+skipped\\s+unchanged\\s+running 1\\.0\\.0\\s+\\d+\\s+it ran this release already$`, 'm'), again.stdout);
  assert.doesNotMatch(again.stdout, /switched/);
  assert.match(again.stdout, /hello 1\.0\.0 runs on every host of staging \(2 unchanged\)/);

  const json = await cli(repo.dir, '--json', 'deploy', 'staging', '1.0.0');
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { ok: boolean; hosts: { outcome: string; ok: boolean }[] };
  assert.deepEqual(doc.hosts.map((h) => [h.outcome, h.ok]), [['unchanged', true], ['unchanged', true]]);
});

test('RESTARTS counts the version that runs: a crash makes it 1, the next deploy starts it at 0', async () => {
  const before = await statusJson();
  const pid = before.hosts[0].app?.pid;
  assert.ok(pid, JSON.stringify(before));
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => {
    const s = await statusJson();
    const a = s.hosts[0].app;
    return a?.restarts === 1 && a.state === 'running' && a.pid !== pid;
  }, 'the agent to restart the killed app and count it');
  await build('1.0.1');
  const r = await cli(repo.dir, 'deploy', 'staging', '1.0.1');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const after = await statusJson();
  assert.deepEqual(after.hosts.map((h) => [h.app?.version, h.app?.restarts]), [['1.0.1', 0], ['1.0.1', 0]]);
  const table = await cli(repo.dir, 'status', 'staging');
  assert.match(table.stdout, new RegExp(`^${esc(hosts[0])}\\s+hello\\s+1\\.0\\.1\\s+running\\s+\\d+\\s+\\S+\\s+0\\s`, 'm'), table.stdout);
});

test('Ctrl-C while the last host is switching: the deploy still ends, exit 0, "the deploy completed"', async () => {
  // The second agent's new version waits for a file before it listens: the test presses Ctrl-C while it waits.
  const go = join(dir, 'go-last-batch');
  const server = readFileSync(join(HELLO, 'server.js'), 'utf8').replace("await listen(server, 'http'",
    `while (process.cwd().includes('/agent2/') && !fs.existsSync(${JSON.stringify(go)})) await sleep(50);\nawait listen(server, 'http'`);
  await build('1.0.2', { 'server.js': server });
  const run = startCli('deploy', 'staging', '1.0.2', '--batch', '1');
  await waitFor(() => new RegExp(`${esc(hosts[1])}\\s+\\+\\d+\\.\\d\\ds starting`).test(run.stderr()), `${hosts[1]} to start 1.0.2`, 60_000);
  run.child.kill('SIGINT');
  await waitFor(() => run.stderr().includes('Ctrl-C: stopping after the current batch'), 'the CLI to take the Ctrl-C');
  writeFileSync(go, '');
  const { code, signal } = await run.done;
  assert.deepEqual([code, signal], [0, null], run.stdout() + run.stderr());
  assert.doesNotMatch(run.stderr(), /interrupted: stopping after this batch/);
  assert.match(run.stdout(), /hello 1\.0\.2 runs on every host of staging \(2 switched\)\nCtrl-C came after every host had switched: the deploy completed/);
});

test('Ctrl-C during post_deploy (every host switched): exit 0, "the deploy completed"; the hook runs to its end', async () => {
  const started = join(dir, 'hook-started');
  const go = join(dir, 'go-hook');
  const yaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8');
  writeFileSync(join(repo.dir, 'hooked.yaml'), `${yaml}hooks: { post_deploy: ${JSON.stringify(`touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.05; done`)} }\n`);
  await build('1.0.3');
  const run = startCli('-c', 'hooked.yaml', 'deploy', 'staging', '1.0.3');
  await waitFor(() => existsSync(started), 'the post_deploy hook to start', 60_000);
  run.child.kill('SIGINT');
  await waitFor(() => run.stderr().includes('Ctrl-C'), 'the CLI to take the Ctrl-C');
  writeFileSync(go, '');
  const { code, signal } = await run.done;
  assert.deepEqual([code, signal], [0, null], run.stdout() + run.stderr());
  assert.match(run.stdout(), /runs on every host of staging \(2 switched\)\nCtrl-C came after every host had switched: the deploy completed/);
});

test('status on an 80-column terminal: every line fits, what is left out is named; piped, all columns; --wide adds the host facts', async () => {
  // The facts are read once after an agent starts, in a worker: wait for them.
  await waitFor(async () => (await statusJson()).hosts.every((h) => h.host_facts?.os.distro), 'the agents to have read their host facts', 60_000);
  const script = join(dir, 'status80.sh');
  writeFileSync(script, `cd '${repo.dir}' && unset NO_COLOR && TERM=xterm-256color '${process.execPath}' '${CLI_BIN}' status staging\necho "[exit $?]"\nexec sleep 600\n`);
  tmux('new-session', '-d', '-s', 'status80', '-x', '80', '-y', '40', 'sh', script);
  // -J joins wrapped lines: a line that did not fit would come back longer than 80.
  const screen = await waitFor(() => {
    const text = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'status80');
    return /\[exit \d+\]/.test(text) ? text : undefined;
  }, 'status in tmux to end', 60_000);
  tmux('kill-session', '-t', 'status80');
  assert.match(screen, /\[exit 0\]/, screen);
  const lines = screen.split('\n');
  const header = lines.findIndex((l) => l.startsWith('HOST'));
  assert.ok(header >= 0, screen);
  for (const l of lines.slice(header, header + 3)) assert.ok([...l].length <= 80, `a table line wider than 80 columns:\n${l}\n${screen}`);
  for (const h of hosts) assert.match(screen, new RegExp(`^${esc(h)}\\s+1\\.0\\.3\\s+running`, 'm'), screen);
  assert.match(screen, /^\(--wide shows [A-Z ]+\)$/m, screen);

  const piped = await cli(repo.dir, 'status', 'staging');
  assert.deepEqual(piped.stdout.split('\n')[0].trim().split(/\s+/), ['HOST', 'APP', 'VERSION', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'RSS', 'NOFILE', 'CPU', 'MEM', 'DISK', 'AGENT']);
  const wide = await cli(repo.dir, 'status', 'staging', '--wide');
  assert.equal(wide.code, 0, wide.stderr);
  assert.match(wide.stdout.split('\n')[0], /AGENT\s+OS\s+CPU MODEL\s+RAM\s+FILESYSTEMS$/);
  for (const h of hosts) assert.match(wide.stdout, new RegExp(`^${esc(h)}\\s.*\\s\\d+(\\.\\d)? GiB\\s+/ \\S+ \\d`, 'm'), wide.stdout);
});
