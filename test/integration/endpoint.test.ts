// The agent's HTTP endpoint, its metrics, grpc.health.v1, and the CLI's
// status and ping, on real agents: each route's answer across the app states
// (running, activating, backoff, crashloop, stopped), and metric values that
// change as the test deploys and crashes the app. Every wait polls with a
// generous deadline; nothing rests on timer order.
// Longer than ~300 lines on purpose: one agent walked through every app state the HTTP endpoint reports, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { tempDir, makeAppRepo, newAgent, connect, testPki, stopAgents, cleanup, cli, get, waitFor, appPort, ROOT, type AppRepo } from '../helpers/env.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let baseYaml: string;
let crashFile: string;

before(async () => {
  dir = tempDir('endpoint');
  crashFile = join(dir, 'crash-now');
  const octet = 10 + Math.floor(Math.random() * 200);
  agents = await Promise.all([1, 2].map((i) => newAgent(dir, { dir: join(dir, `agent${i}`), name: `agent${i}`, appBind: `127.0.${octet}.${i + 1}`, extraConfig: 'sample_interval_s: 0.2' })));
  await Promise.all(agents.map((a) => a.start()));
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  // An environment with a host where nothing listens, for the unreachable row.
  baseYaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8')
    .replace('  nowhere:\n', `  partial:\n    hosts: [${agents[0].address}, 127.0.0.1:1]\n  nowhere:\n`);
  writeFileSync(join(repo.dir, 'slipway.yaml'), baseYaml);
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

// ---- helpers ----

function httpOf(a: LocalAgent): { host: string; port: number } {
  assert.ok(a.httpAddress, 'the agent logs its http address');
  const i = a.httpAddress.lastIndexOf(':');
  return { host: a.httpAddress.slice(0, i), port: Number(a.httpAddress.slice(i + 1)) };
}

async function route(a: LocalAgent, path: string): Promise<{ status: number; body: string }> {
  const { host, port } = httpOf(a);
  return get(host, port, path);
}

async function routeJson<T = Record<string, unknown>>(a: LocalAgent, path: string): Promise<{ status: number; json: T }> {
  const r = await route(a, path);
  return { status: r.status, json: JSON.parse(r.body) as T };
}

interface AppJson {
  app: string; state: string; state_reason: string; state_since: string; should_run: boolean; ready: boolean | null;
  version: string | null; desired_version: string | null; pid: number | null; uptime_s: number | null; restarts: number;
  memory_rss: number | null; open_files_limit: number | null; releases_present: number;
  last_activation: { version: string; result: string; strategy: string } | null;
}
interface StatusJson {
  schema: number;
  agent: { version: string; uptime_s: number; open_files_limit: number; warnings: string[] };
  host: { cpu_percent: number; load1: number; memory_total: number; memory_available: number; disk_total: number; disk_free: number; disk_path: string; sampled_at: string } | null;
  apps: AppJson[];
}
/** /readyz is open, so it says only up or down; /status (behind the token, when one is set) says which app and why. */
interface ReadyJson { ready: boolean }

async function appOn(a: LocalAgent): Promise<AppJson | undefined> {
  return (await routeJson<StatusJson>(a, '/status')).json.apps.find((x) => x.app === 'hello');
}

/** The value of the first sample of `name` whose labels include `labels`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function metricsOf(a: LocalAgent): Promise<string> {
  const r = await route(a, '/metrics');
  assert.equal(r.status, 200);
  return r.body;
}

const hasPromtool = (() => { try { execFileSync('promtool', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const hasPrometheus = (() => { try { execFileSync('prometheus', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const NO_PROMTOOL = hasPromtool ? false : 'promtool is not installed (Debian: apt-get install prometheus)';

function promtool(args: string[], input?: string): { code: number; out: string } {
  try {
    const out = execFileSync('promtool', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

/** slipway.yaml with changes to the run section, for one release. */
function yamlWith(opts: { env?: Record<string, string>; command?: string; restart?: string; include?: string }): string {
  let y = baseYaml;
  if (opts.env) y = y.replace('    NODE_ENV: production\n', `    NODE_ENV: production\n${Object.entries(opts.env).map(([k, v]) => `    ${k}: "${v}"\n`).join('')}`);
  if (opts.command) y = y.replace('  command: [node, server.js]\n', `  command: ${opts.command}\n`);
  if (opts.restart) y = y.replace('  upgrade: hot\n', `  upgrade: hot\n  restart: ${opts.restart}\n`);
  if (opts.include) y = y.replace('include: [server.js, lib, package.json, message.txt]', `include: [server.js, lib, package.json, message.txt, ${opts.include}]`);
  return y;
}

// Exits at once whenever the crash file exists: a crash the test causes when it wants.
const CRASH_JS = `import fs from 'node:fs';
const f = process.env.CRASH_FILE;
const check = () => { if (f && fs.existsSync(f)) { process.stderr.write('crash.js: crash file present, exiting\\n'); process.exit(1); } };
check();
setInterval(check, 20).unref();
await import('./server.js');
`;

async function buildAndDeploy(version: string, ...deployArgs: string[]): Promise<void> {
  const b = await cli(repo.dir, 'build', version);
  assert.equal(b.code, 0, b.stderr);
  const d = await cli(repo.dir, 'deploy', 'staging', version, ...deployArgs);
  assert.equal(d.code, 0, d.stdout + d.stderr);
}

// ---- tests ----

test('before any deploy: /healthz and /readyz are 200, /status has the agent and host, /metrics the host gauges and process metrics', async () => {
  const a = agents[0];
  const h = await routeJson<{ status: string; version: string }>(a, '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  const r = await routeJson<ReadyJson>(a, '/readyz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ready: true });
  assert.deepEqual(h.json, { status: 'ok' }, '/healthz says only up');
  const s = await routeJson<StatusJson>(a, '/status');
  assert.equal(s.status, 200);
  assert.equal(s.json.schema, 1);
  assert.match(s.json.agent.version, /^\d+\.\d+\.\d+/);
  assert.ok(s.json.agent.open_files_limit > 0);
  assert.ok(s.json.host, 'host figures are sampled before the agent listens');
  assert.ok(s.json.host.memory_total > 0 && s.json.host.memory_available > 0 && s.json.host.memory_available <= s.json.host.memory_total);
  assert.ok(s.json.host.disk_total > 0 && s.json.host.disk_free <= s.json.host.disk_total);
  assert.equal(s.json.host.disk_path, a.stateDir);
  assert.deepEqual(s.json.apps, []);
  // The sampler runs on its timer (0.2 s here): sampled_at moves without any request asking for it.
  const t0 = s.json.host.sampled_at;
  await waitFor(async () => (await routeJson<StatusJson>(a, '/status')).json.host?.sampled_at !== t0, 'a newer host sample');

  const m = await metricsOf(a);
  assert.equal(metric(m, 'slipway_upload_bytes_total'), 0);
  assert.ok((metric(m, 'slipway_agent_open_files_limit') ?? 0) > 0);
  assert.ok((metric(m, 'slipway_host_memory_total_bytes') ?? 0) > 0);
  assert.ok((metric(m, 'slipway_host_disk_free_bytes') ?? 0) > 0);
  assert.ok(metric(m, 'slipway_host_cpu_usage_ratio') !== undefined);
  assert.ok(metric(m, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');
  assert.ok(metric(m, 'process_resident_memory_bytes') !== undefined);
  assert.equal(metric(m, 'slipway_app_up'), undefined, 'no app, no series');

  const nf = await route(a, '/nope');
  assert.equal(nf.status, 404);
});

test('the exposition format passes promtool check metrics', { skip: NO_PROMTOOL }, async () => {
  const r = promtool(['check', 'metrics'], await metricsOf(agents[0]));
  assert.equal(r.code, 0, r.out);
});

test('running: a deploy shows in /readyz, /status and the metrics', async () => {
  const before = await metricsOf(agents[0]);
  assert.equal(metric(before, 'slipway_activations_total', { app: 'hello' }), undefined);
  repo.release('1.0.0');
  await buildAndDeploy('1.0.0');
  for (const a of agents) {
    const r = await routeJson<ReadyJson>(a, '/readyz');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const app = await waitFor(async () => { const x = await appOn(a); return x?.memory_rss ? x : undefined; }, 'the sampler to measure the app');
    assert.equal(app.state, 'running');
    assert.equal(app.version, '1.0.0');
    assert.equal(app.desired_version, '1.0.0');
    assert.equal(app.should_run, true);
    assert.equal(app.ready, true);
    assert.ok((app.pid ?? 0) > 0);
    assert.ok((app.open_files_limit ?? 0) > 0, 'from /proc/<pid>/limits');
    assert.equal(app.releases_present, 1);
    assert.equal(app.last_activation?.result, 'done');
    const m = await metricsOf(a);
    assert.equal(metric(m, 'slipway_app_up', { app: 'hello' }), 1);
    assert.equal(metric(m, 'slipway_app_info', { app: 'hello', version: '1.0.0' }), 1);
    assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: 'running' }), 1);
    for (const s of ['stopped', 'starting', 'backoff', 'crashloop', 'activating']) assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: s }), 0, s);
    assert.equal(metric(m, 'slipway_activations_total', { app: 'hello', strategy: 'hot', result: 'done' }), 1);
    assert.equal(metric(m, 'slipway_activation_duration_seconds_count', { app: 'hello' }), 1);
    assert.ok((metric(m, 'slipway_activation_duration_seconds_sum', { app: 'hello' }) ?? 0) > 0);
    assert.ok((metric(m, 'slipway_upload_bytes_total') ?? 0) > 0, 'the upload was counted');
    assert.equal(metric(m, 'slipway_app_restarts_total', { app: 'hello' }), 0);
    assert.equal(metric(m, 'slipway_releases_present', { app: 'hello' }), 1);
    assert.ok((metric(m, 'slipway_app_memory_rss_bytes', { app: 'hello' }) ?? 0) > 0);
  }
});

test('activating: /readyz is 503 while a slow version starts, /status says activating and why, and the old version counts as up', async () => {
  repo.release('1.1.0', { 'slipway.yaml': yamlWith({ env: { HELLO_START_DELAY_MS: '4000' } }) });
  const b = await cli(repo.dir, 'build', '1.1.0');
  assert.equal(b.code, 0, b.stderr);
  const deploy = cli(repo.dir, 'deploy', 'staging', '1.1.0', '--batch', '100%');
  const a = agents[0];
  const seen = await waitFor(async () => {
    const r = await routeJson<ReadyJson>(a, '/readyz');
    const app = await appOn(a);
    return r.status === 503 && app?.state === 'activating' ? { r, app } : undefined;
  }, '/readyz to say not ready while /status says activating', 60_000);
  assert.deepEqual(seen.r.json, { ready: false }, 'no app names or states on the open route');
  assert.equal(seen.app.ready, false);
  assert.match(seen.app.state_reason, /1\.1\.0/);
  const m = await metricsOf(a);
  // The sample may land just after the swap; only while it is still activating do these hold.
  if (metric(m, 'slipway_app_state', { app: 'hello', state: 'activating' }) === 1) {
    assert.equal(metric(m, 'slipway_app_up', { app: 'hello' }), 1, 'the old version serves');
    assert.equal(metric(m, 'slipway_app_info', { app: 'hello', version: '1.0.0' }), 1);
  }
  const d = await deploy;
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const r = await routeJson<ReadyJson>(a, '/readyz');
  assert.equal(r.status, 200);
  const m2 = await metricsOf(a);
  assert.equal(metric(m2, 'slipway_app_info', { app: 'hello', version: '1.1.0' }), 1);
  assert.equal(metric(m2, 'slipway_app_info', { app: 'hello', version: '1.0.0' }), undefined, 'the old version\'s series is gone');
  assert.equal(metric(m2, 'slipway_activations_total', { app: 'hello', strategy: 'hot', result: 'done' }), 2);
  assert.equal(metric(m2, 'slipway_activation_duration_seconds_count', { app: 'hello' }), 2);
  await waitFor(async () => (await appOn(a))?.releases_present === 2, 'releases_present 2');
  assert.equal(metric(await metricsOf(a), 'slipway_releases_present', { app: 'hello' }), 2);
});

test('backoff: after a crash with a long backoff_initial_ms, /readyz is 503, /status has the reason, up is 0, restarts rose', async () => {
  const a = agents[0];
  rmSync(crashFile, { force: true });
  repo.release('2.0.0', {
    'crash.js': CRASH_JS,
    'slipway.yaml': yamlWith({ command: '[node, crash.js]', env: { CRASH_FILE: crashFile }, include: 'crash.js', restart: '{ max_restarts: 5, window_s: 600, backoff_initial_ms: 600000, backoff_max_ms: 600000 }' }),
  });
  await buildAndDeploy('2.0.0', '--host', a.address);
  assert.equal((await routeJson<ReadyJson>(a, '/readyz')).status, 200);
  writeFileSync(crashFile, 'now\n');
  await waitFor(async () => {
    const x = await routeJson<ReadyJson>(a, '/readyz');
    return x.status === 503 && (await appOn(a))?.state === 'backoff' ? x : undefined;
  }, '/readyz to say not ready in backoff');
  const app = await appOn(a);
  assert.match(app?.state_reason ?? '', /exit|code 1/);
  assert.equal(app?.state, 'backoff');
  assert.equal(app?.ready, false);
  assert.ok((app?.restarts ?? 0) >= 1);
  assert.equal(app?.pid, null);
  const m = await metricsOf(a);
  assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: 'backoff' }), 1);
  assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: 'running' }), 0);
  assert.equal(metric(m, 'slipway_app_up', { app: 'hello' }), 0);
  assert.equal(metric(m, 'slipway_app_info', { app: 'hello' }), undefined, 'nothing runs');
  assert.ok((metric(m, 'slipway_app_restarts_total', { app: 'hello' }) ?? 0) >= 1);
  assert.equal((await route(a, '/healthz')).status, 200, 'the agent itself is fine');
  // The other agent was not touched.
  assert.equal((await routeJson<ReadyJson>(agents[1], '/readyz')).status, 200);
});

test('crashloop: restarts stop after max_restarts; /readyz is 503, /status says why; the restarts counter rose', async () => {
  const a = agents[0];
  rmSync(crashFile, { force: true });
  repo.release('2.0.1', {
    'crash.js': CRASH_JS,
    'slipway.yaml': yamlWith({ command: '[node, crash.js]', env: { CRASH_FILE: crashFile }, include: 'crash.js', restart: '{ max_restarts: 2, window_s: 600, backoff_initial_ms: 50, backoff_max_ms: 100, min_healthy_s: 0 }' }),
  });
  await buildAndDeploy('2.0.1', '--host', a.address);
  assert.equal((await routeJson<ReadyJson>(a, '/readyz')).status, 200);
  const restartsBefore = metric(await metricsOf(a), 'slipway_app_restarts_total', { app: 'hello' }) ?? 0;
  writeFileSync(crashFile, 'now\n');
  await waitFor(async () => {
    const x = await routeJson<ReadyJson>(a, '/readyz');
    return x.status === 503 && (await appOn(a))?.state === 'crashloop' ? x : undefined;
  }, '/readyz to say not ready in crashloop');
  assert.match((await appOn(a))?.state_reason ?? '', /max_restarts is 2/);
  const m = await metricsOf(a);
  assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: 'crashloop' }), 1);
  assert.equal(metric(m, 'slipway_app_up', { app: 'hello' }), 0);
  assert.equal(metric(m, 'slipway_app_restarts_total', { app: 'hello' }), restartsBefore + 2, 'two restarts, then the third crash gave up');
  const st = await appOn(a);
  assert.equal(st?.state, 'crashloop');
  assert.ok(Date.parse(st?.state_since ?? '') > Date.now() - 120_000);
  rmSync(crashFile, { force: true });
});

test('stopped: an operator\'s stop is no readiness failure; the metrics say stopped', async () => {
  const a = agents[0];
  const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0', '--host', a.address);
  assert.equal(d.code, 0, d.stdout + d.stderr);
  assert.equal((await routeJson<ReadyJson>(a, '/readyz')).status, 200);
  const s = await cli(repo.dir, 'stop', 'staging', '--host', a.address);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  const app = await appOn(a);
  assert.equal(app?.state, 'stopped');
  assert.equal(app?.should_run, false);
  assert.equal(app?.ready, null);
  assert.equal((await routeJson<ReadyJson>(a, '/readyz')).status, 200);
  const m = await metricsOf(a);
  assert.equal(metric(m, 'slipway_app_state', { app: 'hello', state: 'stopped' }), 1);
  assert.equal(metric(m, 'slipway_app_up', { app: 'hello' }), 0);
  // slipway status marks it, on a host that answers: exit 0.
  const st = await cli(repo.dir, 'status', 'staging');
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /stopped !/);
  assert.match(st.stdout, /not running on 1 of 2 host/);
  const started = await cli(repo.dir, 'start', 'staging', '--host', a.address);
  assert.equal(started.code, 0, started.stdout + started.stderr);
  assert.equal((await appOn(a))?.state, 'running');
});

test('slipway status: figures, mixed versions marked, --json documented; an unreachable host is a row with the reason and exit 1', async () => {
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0', '--host', agents[0].address);
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const human = await cli(repo.dir, 'status', 'staging');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /HOST\s+APP\s+VERSION\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+RSS\s+NOFILE\s+CPU\s+MEM\s+DISK\s+AGENT/);
  assert.match(human.stdout, /1\.0\.0 \*/);
  assert.match(human.stdout, /1\.1\.0 \*/);
  assert.match(human.stdout, /hosts run different versions of hello: 1\.0\.0, 1\.1\.0/);
  assert.doesNotMatch(human.stdout, /\x1b\[/, 'NO_COLOR and no terminal: no colour codes'); // eslint-disable-line no-control-regex
  assert.match(human.stdout, /\d+% +\d+% +[\d.]+ [KMGT]iB free/);

  const j = await cli(repo.dir, '--json', 'status', 'staging');
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as {
    schema: number; command: string; ok: boolean; versions: string[]; mixed_versions: boolean; not_running: string[];
    hosts: { ok: boolean; agent: { version: string; open_files_limit: number }; system: { cpu_percent: number; memory_used_percent: number; disk_free: number; disk_path: string };
      app: { state: string; version: string; memory_rss: number; releases_present: number; state_since: string } }[];
  };
  assert.equal(doc.schema, 1);
  assert.equal(doc.command, 'status');
  assert.deepEqual(doc.versions, ['1.0.0', '1.1.0']);
  assert.equal(doc.mixed_versions, true);
  assert.deepEqual(doc.not_running, []);
  for (const h of doc.hosts) {
    assert.equal(h.app.state, 'running');
    assert.ok(h.system.disk_free > 0 && h.system.memory_used_percent > 0);
    assert.ok(h.agent.open_files_limit > 0);
    assert.ok(h.app.releases_present >= 2);
    assert.ok(h.app.state_since);
  }

  const p = await cli(repo.dir, 'status', 'partial');
  assert.equal(p.code, 1);
  assert.match(p.stdout, /127\.0\.0\.1:1\s+hello\s+-\s+unreachable !.*connection refused/);
  assert.match(p.stdout, /1 host\(s\) did not answer/);
  const pj = await cli(repo.dir, '--json', 'status', 'partial');
  assert.equal(pj.code, 1);
  const pdoc = JSON.parse(pj.stdout) as { ok: boolean; unreachable: string[]; hosts: { host: string; ok: boolean; error?: { unreachable: boolean; message: string } }[] };
  assert.equal(pdoc.ok, false);
  assert.deepEqual(pdoc.unreachable, ['127.0.0.1:1']);
  assert.equal(pdoc.hosts[1].error?.unreachable, true);
});

test('slipway status --watch redraws until Ctrl-C (SIGINT), then exits with the last round\'s code', async () => {
  const child = spawn(process.execPath, [CLI_BIN, 'status', 'staging', '--watch', '--interval', '0.3'], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => (out.match(/^HOST\s+APP/gm) ?? []).length >= 3, 'three redraws');
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(out, /Ctrl-C to stop/);
});

test('grpc.health.v1 answers SERVING to a stock client; slipway ping gives each host\'s round trip', async () => {
  const Ctor = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');
  const pki = await testPki(dir);
  const creds = grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(pki.deployer.key), readFileSync(pki.deployer.cert));
  const hc = new Ctor(agents[0].address, creds, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  };
  try {
    const check = (service: string) => new Promise<{ status?: string; code?: number }>((resolve) => hc.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res?.status })));
    assert.deepEqual(await check(''), { status: 'SERVING' });
    assert.deepEqual(await check('slipway.v1.Agent'), { status: 'SERVING' });
    assert.deepEqual(await check('no.such.Service'), { code: grpc.status.NOT_FOUND });
  } finally {
    hc.close();
  }
  const conn = connect(agents[1]);
  try {
    const h = await conn.health();
    assert.equal(h.status, 'SERVING');
    assert.ok(h.ms >= 0);
  } finally {
    conn.close();
  }

  const p = await cli(repo.dir, 'ping', 'staging');
  assert.equal(p.code, 0, p.stdout + p.stderr);
  for (const a of agents) assert.match(p.stdout, new RegExp(`${a.address.replace(/\./g, '\\.')}\\s+SERVING\\s+[\\d.]+ ms`));
  const pj = await cli(repo.dir, '--json', 'ping', 'partial');
  assert.equal(pj.code, 1);
  const doc = JSON.parse(pj.stdout) as { schema: number; command: string; hosts: { host: string; ok: boolean; rtt_ms?: number; error?: { unreachable: boolean } }[] };
  assert.equal(doc.command, 'ping');
  assert.equal(doc.hosts[0].ok, true);
  assert.ok((doc.hosts[0].rtt_ms ?? -1) >= 0);
  assert.equal(doc.hosts[1].ok, false);
  assert.equal(doc.hosts[1].error?.unreachable, true);
});

test('the example alert rules pass promtool check rules, and the example scrape config promtool check config', { skip: NO_PROMTOOL }, () => {
  const rules = promtool(['check', 'rules', join(ROOT, 'docs', 'prometheus', 'slipway-alerts.yml')]);
  assert.equal(rules.code, 0, rules.out);
  assert.match(rules.out, /SUCCESS: \d+ rules found/);
  const conf = promtool(['check', 'config', join(ROOT, 'docs', 'prometheus', 'prometheus.yml')]);
  assert.equal(conf.code, 0, conf.out);
});

test('a real Prometheus server scrapes both agents and has slipway_app_up from each', { skip: hasPrometheus ? false : 'prometheus is not installed (Debian: apt-get install prometheus)' }, async () => {
  const work = join(dir, 'prometheus');
  mkdirSync(work, { recursive: true });
  const config = join(work, 'prometheus.yml');
  // The docs' scrape config, pointed at the two agents on loopback and scraping every second.
  const doc = readFileSync(join(ROOT, 'docs', 'prometheus', 'prometheus.yml'), 'utf8')
    .replace(/scrape_interval: 15s/, 'scrape_interval: 1s').replace(/scrape_timeout: 5s/, 'scrape_timeout: 1s')
    .replace(/ {2}- slipway-alerts\.yml/, `  - ${join(ROOT, 'docs', 'prometheus', 'slipway-alerts.yml')}`)
    .replace(/static_configs:[\s\S]*$/, `static_configs:\n      - targets: [${agents.map((a) => a.httpAddress).join(', ')}]\n        labels: { env: staging }\n`);
  writeFileSync(config, doc);
  let prom: ChildProcess | undefined;
  let port = 0;
  let log = '';
  try {
    for (let attempt = 0; attempt < 5 && !prom; attempt++) {
      port = appPort();
      const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(work, `data${attempt}`)}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
      const ok = await waitFor(async () => (child.exitCode !== null ? 'exited' : ((await get('127.0.0.1', port, '/-/ready')).status === 200 ? 'ready' : undefined)), 'prometheus to be ready', 30_000).catch(() => 'timeout');
      if (ok === 'ready') prom = child;
      else child.kill('SIGKILL');
    }
    assert.ok(prom, `prometheus did not start:\n${log.slice(-2000)}`);
    const result = await waitFor(async () => {
      const r = await get('127.0.0.1', port, `/api/v1/query?query=${encodeURIComponent('slipway_app_up{app="hello"}')}`);
      const body = JSON.parse(r.body) as { data: { result: { metric: { instance: string }; value: [number, string] }[] } };
      return body.data.result.length === 2 ? body.data.result : undefined;
    }, 'slipway_app_up from both agents', 60_000);
    assert.deepEqual(result.map((x) => x.metric.instance).sort(), agents.map((a) => a.httpAddress).sort());
    for (const x of result) assert.equal(x.value[1], '1');
  } finally {
    prom?.kill('SIGTERM');
    if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
  }
  assert.ok(existsSync(work));
});
