// `slipway setup ENV` for real: three bare hosts (network namespaces, each
// with its own /etc, /var/lib, /usr/local and /run, no node anywhere in its
// view, Debian's sshd running in it: test/helpers/ssh-hosts.ts), reached by
// the system's ssh through the ssh_config that slipway.yaml names. From bare
// hosts to a served app in two commands, `slipway setup staging` and
// `slipway deploy staging 1.0.0` (the app is Python: the host has no Node at
// all; the agent is the single executable). systemd is not PID 1 in these
// hosts: setup checks the installed unit with systemd-analyze verify and
// starts the agent as its ExecStartPre/ExecStart would (docs/setup.md says
// what is tested how). Then: a second setup changes nothing and says so; a
// host that cannot be reached is named with the reason while the others
// go on; --dry-run changes nothing; setup.app_users: per_app makes the app's
// own user and the app runs as it; --uninstall removes, --purge the state and
// the users too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, git, waitFor, ROOT } from '../helpers/env.js';
import { SshHosts, SSHD } from '../helpers/ssh-hosts.js';
import { CLI_BIN } from '../../scripts/local-fleet.js';

const SKIP = process.getuid?.() !== 0 ? 'needs root (network and mount namespaces)' : !existsSync(SSHD) ? `needs Debian's openssh-server (${SSHD}); .ci/run installs it` : false;

// A /24 and a name prefix no other test file uses.
const NET = `10.${180 + Math.floor(Math.random() * 40)}.${Math.floor(Math.random() * 250)}`;
const PORT = 7070;
const APP_PORT = 8080;

let dir: string;
let hosts: SshHosts;
let repo: string;
let exe: string;

const SERVER = `# A tiny app with no Node: Python's http.server on the socket the agent passes as fd 3.
import http.server, json, os, signal, socket, threading
version = os.environ.get('SLIPWAY_VERSION', '?')
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({'version': version, 'pid': os.getpid(), 'runtime': 'python'}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        pass
    def server_activate(self):
        pass
server = Server(('0.0.0.0', 0), Handler, bind_and_activate=False)
server.socket.close()
server.socket = socket.socket(fileno=3)
fd = os.environ.get('NOTIFY_FD')
if fd:
    os.write(int(fd), b'READY=1\\n')
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
server.serve_forever()
`;

function slipway(...args: string[]) {
  return hosts.inCoordAsync([process.execPath, CLI_BIN, ...args], { cwd: repo, env: { ...process.env, NO_COLOR: '1' } });
}

before(async () => {
  if (SKIP) return;
  dir = tempDir('setup');
  exe = join(dir, 'slipway-agent');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs'), '--out', exe], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  hosts = new SshHosts(`sws${process.pid % 10000}`, NET, 3, join(dir, 'fleet'));
  hosts.up();
  await hosts.waitForSshd();

  repo = join(dir, 'app');
  mkdirSync(repo);
  writeFileSync(join(repo, 'server.py'), SERVER);
  writeFileSync(join(repo, '.gitignore'), 'certs/*-key.pem\ncerts/agents/\nkeys/*.key\n');
  const addrs = hosts.names.map((n) => `${hosts.addr(n)}:${PORT}`);
  writeFileSync(join(repo, 'slipway.yaml'), [
    'app: pyhello',
    'build:',
    '  command: [python3, -c, "import ast,sys; ast.parse(open(\'server.py\').read())"]',
    '  include: [server.py]',
    'run:',
    '  command: [python3, server.py]',
    `  listen: [{ name: http, port: ${APP_PORT}, host: 0.0.0.0 }]`,
    '  notify: true',
    '  health: { http: { listen: http, path: /healthz }, timeout_s: 30 }',
    '  stop: { signal: SIGTERM, drain_timeout_s: 5 }',
    'environments:',
    `  staging: { hosts: [${addrs.join(', ')}] }`,
    `  mixed: { hosts: [${addrs[0]}, ${NET}.99:${PORT}] }`,
    'tls: { ca: certs/ca.pem, cert: certs/ci-1.pem, key: certs/ci-1-key.pem }',
    'signing_key: keys/release.key',
    'ssh: { config: ssh_config }',
    `setup: { agent_bin: ${exe} }`,
    'deadline_s: 10',
    '',
  ].join('\n'));
  execFileSync('cp', [hosts.sshConfig, join(repo, 'ssh_config')]);
  git(repo, 'init', '-q', '-b', 'main');
  for (const args of [['certs', 'init'], ['certs', 'issue', 'ci-1', '--client'], ['keys', 'generate']]) {
    const r = await slipway(...args);
    assert.equal(r.code, 0, `slipway ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'pyhello');
  git(repo, 'tag', '1.0.0');
});

after(() => {
  if (SKIP) return;
  hosts?.down();
  cleanup(dir);
});

test('the bare hosts: sshd answers, no node anywhere in their view, nothing of slipway', { skip: SKIP }, () => {
  for (const n of hosts.names) {
    const r = hosts.ssh(n, 'command -v node nodejs; test -z "$(ls -A /usr/local)$(ls -A /var/lib)" && echo empty; test -e /etc/slipway && echo has-etc-slipway; hostname');
    assert.equal(r.stdout.trim(), `empty\n${n}`, `${n}: ${r.stdout}${r.stderr}`);
  }
});

test('--dry-run prints the plan for every host and changes nothing', { skip: SKIP }, async () => {
  const r = await slipway('setup', 'staging', '--dry-run');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const n of hosts.names) assert.match(r.stdout, new RegExp(`${hosts.addr(n).replace(/\./g, '\\.')}:${PORT}: would\\n(.*\\n)*?\\s+- install /usr/local/bin/slipway-agent`));
  assert.match(r.stdout, /dry run: 3 of 3 hosts would change; nothing was changed/);
  for (const n of hosts.names) assert.equal(hosts.ssh(n, 'ls -A /usr/local; test -e /etc/slipway && echo x').stdout.trim(), '');
  assert.equal(existsSync(join(repo, 'certs', 'agents')), false, 'a dry run issues no certificate');
});

test('slipway setup staging, then slipway deploy staging 1.0.0: the app is served by every host; no node on them', { skip: SKIP }, async () => {
  const s = await slipway('setup', 'staging');
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.match(s.stdout, /3 of 3 hosts set up, 0 unchanged/);
  assert.equal((s.stdout.match(/set up; the agent answers SERVING/g) ?? []).length, 3, s.stdout);
  for (const n of hosts.names) {
    const r = hosts.ssh(n, [
      'command -v node || echo no-node',
      'readlink /proc/$(cat /run/slipway-agent.pid)/exe',
      'systemd-analyze verify /etc/systemd/system/slipway-agent.service && echo verify-ok',
      'stat -c "%a %U" /etc/slipway/agent-key.pem /etc/slipway/agent.yaml',
      'id -u slipway >/dev/null && echo user-ok',
    ].join('; '));
    assert.equal(r.stdout.trim().split('\n').join('|'), 'no-node|/usr/local/bin/slipway-agent|verify-ok|600 root|640 root|user-ok', `${n}: ${r.stdout}${r.stderr}`);
  }
  const b = await slipway('build', '1.0.0');
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const d = await slipway('deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  for (const n of hosts.names) {
    const r = hosts.inCoord([process.execPath, '-e', `fetch('http://${hosts.addr(n)}:${APP_PORT}/').then(r => r.text()).then(t => process.stdout.write(t))`]);
    const body = JSON.parse(r.stdout) as { version: string; runtime: string };
    assert.deepEqual([body.version, body.runtime], ['1.0.0', 'python'], `${n}: ${r.stdout}${r.stderr}`);
  }
});

test('a second setup changes nothing and says so; the agents keep their pids', { skip: SKIP }, async () => {
  const pids = hosts.names.map((n) => hosts.ssh(n, 'cat /run/slipway-agent.pid').stdout.trim());
  const s = await slipway('setup', 'staging');
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.match(s.stdout, /nothing to change on 3 hosts: every agent is installed and answers/);
  assert.equal((s.stdout.match(/up to date, nothing to change; the agent answers SERVING/g) ?? []).length, 3, s.stdout);
  assert.deepEqual(hosts.names.map((n) => hosts.ssh(n, 'cat /run/slipway-agent.pid').stdout.trim()), pids);
  const j = await slipway('--json', 'setup', 'staging');
  const doc = JSON.parse(j.stdout) as { command: string; ok: boolean; changed: boolean; hosts: { ok: boolean; changed: boolean; serving: boolean }[] };
  assert.deepEqual([doc.command, doc.ok, doc.changed, doc.hosts.every((h) => h.ok && !h.changed && h.serving)], ['setup', true, false, true]);
});

test('a host that cannot be reached is named with the reason; the others go on (exit 1)', { skip: SKIP }, async () => {
  const s = await slipway('setup', 'mixed');
  assert.equal(s.code, 1, s.stdout + s.stderr);
  assert.match(s.stdout, new RegExp(`✗ ${NET.replace(/\./g, '\\.')}\\.99:${PORT}: ssh ${NET.replace(/\./g, '\\.')}\\.99: .+`));
  assert.match(s.stdout, /SLIPWAY_ERR_HOST_UNREACHABLE/);
  assert.match(s.stdout, new RegExp(`✓ ${hosts.addr('h1').replace(/\./g, '\\.')}:${PORT}: up to date`));
});

test('setup.app_users: per_app: setup makes the app\'s own user and switches the agents; after a restart the app runs as it and owns its data dir', { skip: SKIP }, async () => {
  const yaml = join(repo, 'slipway.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(`setup: { agent_bin: ${exe} }`, `setup: { agent_bin: ${exe}, app_users: per_app }`));
  const plan = await slipway('setup', 'staging', '--dry-run');
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.equal((plan.stdout.match(/- create the system user slipway-pyhello \(app pyhello runs as it: app_users: per_app\)/g) ?? []).length, 3, plan.stdout);
  const s = await slipway('setup', 'staging');
  assert.equal(s.code, 0, s.stdout + s.stderr);
  const r = await slipway('restart', 'staging');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const n of hosts.names) {
    const out = hosts.ssh(n, [
      'grep -x "app_users: per_app" /etc/slipway/agent.yaml',
      'grep -c "^app_user:" /etc/slipway/agent.yaml',
      'id -nG slipway-pyhello',
      'stat -c "%U %a" /var/lib/slipway/apps/pyhello/data /var/lib/slipway',
    ].join('; '));
    assert.equal(out.stdout.trim().split('\n').join('|'), 'app_users: per_app|0|slipway-pyhello|slipway-pyhello 700|root 751', `${n}: ${out.stdout}${out.stderr}`);
    // The owners of the app's live processes that state.json names: the one the restart started, and
    // the old one only while it still drains (a CI run once read the old pid just as it exited).
    const owners = () => hosts.ssh(n, 'for p in $(grep -o \'"pid": *[0-9]*\' /var/lib/slipway/apps/pyhello/state.json | grep -o "[0-9]*$"); do stat -c %U /proc/$p 2>/dev/null; done').stdout.trim();
    await waitFor(() => owners() === 'slipway-pyhello', () => `${n}: the app's processes are owned by ${JSON.stringify(owners())}, not only by slipway-pyhello`);
  }
  const again = await slipway('setup', 'staging');
  assert.match(again.stdout, /nothing to change on 3 hosts/, again.stdout);
});

test('--uninstall removes what setup installed and keeps the state; --purge removes the state and the user', { skip: SKIP }, async () => {
  const h3 = `${hosts.addr('h3')}:${PORT}`;
  const u = await slipway('setup', 'staging', '--uninstall', '--host', h3);
  assert.equal(u.code, 0, u.stdout + u.stderr);
  let r = hosts.ssh('h3', 'for f in /usr/local/bin/slipway-agent /etc/systemd/system/slipway-agent.service /etc/slipway /run/slipway-agent.pid; do test -e $f && echo $f; done; test -d /var/lib/slipway/apps/pyhello && echo state-kept; id -u slipway >/dev/null && echo user-kept');
  assert.equal(r.stdout.trim(), 'state-kept\nuser-kept', r.stdout + r.stderr);
  const p = await slipway('setup', 'staging', '--uninstall', '--purge', '--host', h3);
  assert.equal(p.code, 0, p.stdout + p.stderr);
  r = hosts.ssh('h3', 'test -e /var/lib/slipway && echo state; id -u slipway 2>/dev/null && echo user; id -u slipway-pyhello 2>/dev/null && echo app-user; echo done');
  assert.equal(r.stdout.trim(), 'done', r.stdout + r.stderr);
  // The others still serve.
  const s = await slipway('ping', 'staging', '--host', `${hosts.addr('h1')}:${PORT}`);
  assert.equal(s.code, 0, s.stdout + s.stderr);
});
