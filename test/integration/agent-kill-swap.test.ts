// The agent SIGKILLed in the middle of a hot swap, at the moment each of its
// last steps begins: the `current` swap (apps/<app>/.tmp-current-* appears),
// right after the new version's `ready`, and right after `draining`. A client
// holds a stream on the old version, and paced load runs throughout. After a
// restart of the agent (nothing else): the app answers within seconds, no
// request failed, exactly one version serves and state.json and /status say
// which, the draining version (if any) is not taken for the serving one, and
// no temp file is left. Every wait polls with a generous deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { watch, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, get, waitFor, appHost, type AppRepo } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agent: LocalAgent;
let repo: AppRepo;
let host: string;

before(async () => {
  dir = tempDir('agent-kill-swap');
  [agent] = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, [agent.address]);
  host = appHost(agent);
  repo.release('1.0.0', { 'message.txt': 'one\n' });
  repo.release('1.1.0', { 'message.txt': 'two\n' });
  for (const v of ['1.0.0', '1.1.0']) {
    const b = await cli(repo.dir, 'build', v);
    assert.equal(b.code, 0, b.stderr);
  }
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await stopAgents([agent]);
  cleanup(dir);
});

async function served(): Promise<{ version: string; pid: number }> {
  return JSON.parse((await get(host, repo.port)).body) as { version: string; pid: number };
}

function statusApp(): Promise<{ state: string; version: string | null; pid: number | null; desired_version: string | null }> {
  return new Promise((resolve, reject) => {
    const i = agent.httpAddress.lastIndexOf(':');
    http.get({ host: agent.httpAddress.slice(0, i), port: Number(agent.httpAddress.slice(i + 1)), path: '/status', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => {
        const apps = (JSON.parse(body) as { apps: { app: string; state: string; version: string | null; pid: number | null; desired_version: string | null }[] }).apps;
        const app = apps.find((a) => a.app === 'hello');
        if (app) resolve(app); else reject(new Error('no app hello in /status'));
      });
    }).on('error', reject);
  });
}

interface StateJson { desired: { version: string } | null; activating: unknown; processes: { pid: number; version: string; stop_sent_at?: string }[] }
const appDir = () => join(agent.stateDir, 'apps', 'hello');
const stateJson = () => JSON.parse(readFileSync(join(appDir(), 'state.json'), 'utf8')) as StateJson;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Temp files anywhere an activation or an upload writes them. */
function tempLeftovers(): string[] {
  return [agent.stateDir, appDir(), join(appDir(), 'store'), join(appDir(), 'releases')]
    .flatMap((d) => readdirSync(d).filter((n) => n.startsWith('.tmp-')).map((n) => join(d, n)));
}

/** GET /stream held open on the serving version. */
function holdStream(): { pids: Set<number>; close: () => void } {
  const pids = new Set<number>();
  const sock = net.connect({ host, port: repo.port });
  sock.write(`GET /stream HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  sock.on('data', (d: Buffer) => { for (const m of d.toString().matchAll(/tick \d+ \S+ pid (\d+)/g)) pids.add(Number(m[1])); });
  sock.on('error', () => undefined);
  return { pids, close: () => sock.destroy() };
}

/** A deploy whose agent is SIGKILLed when `step` begins; resolves once the agent is dead and the CLI has ended. */
async function deployKilledAt(version: string, step: 'current' | 'ready' | 'draining'): Promise<void> {
  let fired = false;
  const kill = () => {
    if (fired) return;
    fired = true;
    agent.child?.kill('SIGKILL');
  };
  const watcher = step === 'current' ? watch(appDir(), (_e, name) => { if (String(name).startsWith('.tmp-current-')) kill(); }) : undefined;
  const child = spawn(process.execPath, [CLI_BIN, 'deploy', 'staging', version], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: string[] = [];
  const onLine = (line: string) => {
    seen.push(line);
    if (step !== 'current' && new RegExp(`^\\S+\\s+(?:\\+[\\d.]+s\\s+)?${step}\\b`).test(line)) kill();
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  await new Promise((r) => child.once('exit', r));
  watcher?.close();
  assert.ok(fired, `the deploy reached ${step} (it printed:\n${seen.join('\n')})`);
  await waitFor(() => agent.child?.exitCode !== null || agent.child?.signalCode !== null, 'the agent to be dead');
}

for (const step of ['current', 'ready', 'draining'] as const) {
  test(`the agent SIGKILLed at ${step} of a hot swap: after its restart the app answers at once, one version serves, status and state.json say which, no temp file is left`, async () => {
    const before = await served();
    const next = before.version === '1.0.0' ? '1.1.0' : '1.0.0';
    const stream = holdStream();
    const load = new Load({ host, port: repo.port, keepAliveClients: 2, freshClients: 2, intervalMs: 25, maxDurationMs: 120_000 }).start();
    try {
      await waitFor(() => stream.pids.size > 0, 'the stream to start');
      assert.deepEqual([...stream.pids], [before.pid]);
      await deployKilledAt(next, step);
      await agent.start();
      // The killed deploy's lease outlives it; an operator who knows it is gone frees it.
      const u = await cli(repo.dir, 'unlock', 'staging', '--force');
      assert.equal(u.code, 0, u.stdout + u.stderr);
      const st = await waitFor(async () => {
        const a = await statusApp();
        const s = await served();
        return a.state === 'running' && a.pid === s.pid && a.version === s.version ? { a, s } : undefined;
      }, 'the app to answer and /status to say what serves', 15_000);
      const state = stateJson();
      assert.equal(state.desired?.version, st.s.version, 'state.json names the version that serves');
      assert.equal(st.a.desired_version, st.s.version);
      assert.equal(state.activating, null);
      const serving = state.processes.filter((p) => !p.stop_sent_at);
      assert.deepEqual(serving.map((p) => p.pid), [st.s.pid], 'exactly one process serves; any other drains');
      for (const p of state.processes.filter((x) => x.stop_sent_at)) assert.notEqual(p.version, st.s.version);
      await waitFor(() => tempLeftovers().length === 0, `no temp file left (${tempLeftovers().join(', ')})`, 15_000);
      // The old version, if it was told to stop, ends at its own drain deadline (10 s), never is it kept.
      if (st.s.pid !== before.pid) await waitFor(() => !alive(before.pid), `old pid ${before.pid} to end`, 40_000);
      const summary = await load.stop();
      assert.equal(summary.failed, 0, `no request failed: ${JSON.stringify(summary.failures.slice(0, 3))}`);
      assert.ok(summary.ok > 0);
      // A redeploy converges.
      const d = await cli(repo.dir, 'deploy', 'staging', next);
      assert.equal(d.code, 0, d.stdout + d.stderr);
      assert.equal((await served()).version, next);
    } finally {
      stream.close();
      await load.stop();
    }
  });
}
