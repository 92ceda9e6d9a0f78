// The example apps of docs/apps.md (examples/apps/python, go, ruby: stdlib
// only) on a real agent: each is built by `slipway build`, deployed, answers
// on the socket the agent passes (LISTEN_FDS), says READY=1 on NOTIFY_FD, and
// is hot-swapped to a second version under load with 0 failed requests, the
// old version draining and exiting by itself on SIGTERM. Ruby's run.command is
// a string (sh -c). An app that binds its port itself fails to deploy with
// the hint that names LISTEN_FDS. A language whose toolchain is missing is
// skipped, naming the Debian package (.ci/run installs them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, startAgents, stopAgents, cleanup, cli, connect, git, get, testPki, waitFor, appPort, appHost, ROOT } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import type { AgentConnection } from '../../coordinator/client.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface Lang {
  dir: string;
  app: string;
  /** Why it is skipped: its toolchain is missing. */
  skip: string | false;
}

const LANGS: Record<'python' | 'go' | 'ruby', Lang> = {
  python: { dir: 'python', app: 'hello-python', skip: !has('python3') && 'python3 is not installed (apt-get install python3)' },
  go: { dir: 'go', app: 'hello-go', skip: !has('go') && 'Go is not installed (apt-get install golang-go; .ci/run does)' },
  ruby: { dir: 'ruby', app: 'hello-ruby', skip: !has('ruby') && 'Ruby is not installed (apt-get install ruby; .ci/run does)' },
};

let dir: string;
let agent: LocalAgent;
let conn: AgentConnection;
let host: string;
const repos = new Map<string, { dir: string; port: number }>();

/** examples/apps/NAME as a git repo aimed at the test's agent, its releases 1.0.0 and 1.0.1 built. */
async function prepare(name: keyof typeof LANGS): Promise<void> {
  const pki = await testPki(dir);
  const repo = join(dir, name);
  cpSync(join(ROOT, 'examples', 'apps', LANGS[name].dir), repo, { recursive: true, filter: (src) => !/\/(bin|__pycache__)$/.test(src) });
  const port = appPort();
  const file = join(repo, 'slipway.yaml');
  const yaml = readFileSync(file, 'utf8');
  const aimed = yaml.replace(/port: \d+/, `port: ${port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    hosts: [${agent.address}]\ntls: ${pki.coordinatorTls}\nsigning_key: ${pki.signing.private}\ndeadline_s: 15\n`);
  assert.notEqual(aimed, yaml);
  writeFileSync(file, aimed);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'the example');
  // Two versions of the same code: the app answers with SLIPWAY_VERSION.
  git(repo, 'tag', '1.0.0');
  git(repo, 'tag', '1.0.1');
  for (const v of ['1.0.0', '1.0.1']) {
    const b = await cli(repo, 'build', v);
    assert.equal(b.code, 0, `${name} build ${v}: ${b.stdout}${b.stderr}`);
  }
  repos.set(name, { dir: repo, port });
}

before(async () => {
  dir = tempDir('apps-lang');
  // Go builds offline, with its cache in the test's temp dir (the first build compiles the standard library once).
  Object.assign(process.env, { GOCACHE: join(dir, 'go-cache'), GOPATH: join(dir, 'go-path'), GOPROXY: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '' });
  [agent] = await startAgents(dir, 1);
  conn = connect(agent, 15_000);
  host = appHost(agent);
  await Promise.all((Object.keys(LANGS) as (keyof typeof LANGS)[]).filter((n) => !LANGS[n].skip).map((n) => prepare(n)));
});

after(async () => {
  conn?.close();
  if (agent) await stopAgents([agent]);
  if (dir) cleanup(dir);
});

interface Served { version: string; pid: number }

async function underLoad<T>(port: number, fn: () => Promise<T>): Promise<{ result: T; failed: number; failures: string[] }> {
  const load = new Load({ host, port, keepAliveClients: 2, freshClients: 2, intervalMs: 20, maxDurationMs: 120_000 }).start();
  await waitFor(() => load.outcomes.length >= 20, 'some requests before the swap');
  const result = await fn();
  const seen = load.outcomes.length;
  await waitFor(() => load.outcomes.length >= seen + 20, 'some requests after the swap');
  const s = await load.stop();
  return { result, failed: s.failed, failures: s.failures.slice(0, 5).map((o) => o.error ?? `status ${o.status}`) };
}

for (const name of Object.keys(LANGS) as (keyof typeof LANGS)[]) {
  const { app, skip } = LANGS[name];
  test(`${name}: deployed, it serves on the passed socket; a hot swap under load fails no request and the old version drains and exits by itself`, { skip }, async () => {
    const repo = repos.get(name);
    assert.ok(repo, `${name} was prepared`);
    const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const page = await get(host, repo.port, '/');
    assert.deepEqual([page.status, page.body], [200, `hello from ${name} 1.0.0\n`]);
    const first = JSON.parse((await get(host, repo.port, '/version')).body) as Served;
    const st = (await conn.status(app)).apps[0];
    assert.deepEqual([first.version, first.pid], ['1.0.0', st.pid], 'the process slipway started answers (LISTEN_PID was its own pid)');
    // Readiness came from READY=1 (notify: true), not from uptime or the old version.
    assert.match(d.stdout + d.stderr, /1\.0\.0 is ready/);

    const swap = await underLoad(repo.port, () => cli(repo.dir, 'deploy', 'staging', '1.0.1'));
    assert.equal(swap.result.code, 0, swap.result.stdout + swap.result.stderr);
    assert.equal(swap.failed, 0, `failed requests during the swap: ${swap.failures.join('; ')}`);
    // The old version stops accepting on SIGTERM, which the deploy sends before it reports done; until
    // its server loop notices (Python's polls twice a second), a new connection may still reach it.
    const second = await waitFor(async () => {
      const v = JSON.parse((await get(host, repo.port, '/version')).body) as Served;
      return v.version === '1.0.1' ? v : undefined;
    }, () => `${name} 1.0.1 to answer new connections`);
    assert.notEqual(second.pid, first.pid);
    const log = join(agent.stateDir, 'apps', app, 'logs', 'app.log');
    await waitFor(() => readFileSync(log, 'utf8').includes(`pid ${first.pid} exited with code 0 (stopped by the agent)`), `${name} 1.0.0 to drain and exit 0 on SIGTERM`);
    assert.doesNotMatch(readFileSync(log, 'utf8'), new RegExp(`pid ${first.pid} was killed`));
  });
}

test('an app that binds its port itself, while the agent holds it: the deploy fails with the hint naming LISTEN_FDS; the running version keeps serving', { skip: LANGS.python.skip }, async () => {
  const repo = repos.get('python');
  assert.ok(repo);
  const before = JSON.parse((await get(host, repo.port, '/version')).body) as Served;
  // What a Python app written for a plain server does: bind the port from its own settings.
  writeFileSync(join(repo.dir, 'app.py'), [
    'from http.server import BaseHTTPRequestHandler, HTTPServer',
    `HTTPServer((${JSON.stringify(host)}, ${repo.port}), BaseHTTPRequestHandler).serve_forever()`,
    '',
  ].join('\n'));
  git(repo.dir, 'commit', '-q', '-am', 'binds its own port');
  git(repo.dir, 'tag', '2.0.0');
  const b = await cli(repo.dir, 'build', '2.0.0');
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const d = await cli(repo.dir, 'deploy', 'staging', '2.0.0');
  assert.equal(d.code, 1, d.stdout + d.stderr);
  const said = d.stdout + d.stderr;
  assert.match(said, /Address already in use/);
  assert.match(said, new RegExp(`the app binds its port itself .*the agent holds it: take the socket the agent passes instead \\(LISTEN_FDS: fd 3 for http, port ${repo.port}\\): see docs/apps\\.md`));
  const after = JSON.parse((await get(host, repo.port, '/version')).body) as Served;
  assert.deepEqual(after, before);
});

test('slipway init in a Python repo writes a Python config (no npm), says why and what else it saw; a bad --lang exits 2 listing the choices and writes nothing', async () => {
  const repo = join(dir, 'init-python');
  mkdirSync(repo);
  writeFileSync(join(repo, 'requirements.txt'), 'flask\n');
  writeFileSync(join(repo, 'package.json'), '{"name":"assets"}\n');
  const bad = await cli(repo, 'init', '--lang', 'rust');
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /--lang must be one of node, python, ruby, go, elixir, generic, not "rust"/);
  assert.equal(existsSync(join(repo, 'slipway.yaml')), false);
  const r = await cli(repo, 'init');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /wrote .*slipway\.yaml for a python app \(found requirements\.txt\)/);
  assert.match(r.stdout, /also found package\.json: for another language, run slipway init --force --lang /);
  const yaml = readFileSync(join(repo, 'slipway.yaml'), 'utf8');
  assert.doesNotMatch(yaml, /npm/);
  assert.match(yaml, /command: python3 -m pip install .*-r requirements\.txt/);
  const j = await cli(repo, '--json', 'init', '--force', '--lang', 'go');
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { lang: string; detected_by: string; other_markers: string[] };
  assert.deepEqual([out.lang, out.detected_by, out.other_markers], ['go', 'option', ['requirements.txt', 'package.json']]);
});
