// Per-app users (agent config app_users: per_app): two apps on one agent run
// as their own system users, slipway-<app>, which the agent makes; neither
// can list, read or write the other's data or tmp dir (EACCES, from the app
// itself and from a task), each writes its own, a re-deploy keeps the data.
// The first app starts under the shared app_user of an earlier config: its
// data dir is handed over (with its files) when the agent comes back with
// per_app, and the app still reads what it wrote before. Tasks, health
// check commands and upgrade commands run as the app's own user too. Run
// as root (the agent must be, to run apps as users); the users it makes
// have names unique to this run and are removed afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, newAgent, cleanup, cli, get, appHost, appPort, git } from '../helpers/env.js';
import { AGENT_BIN, killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';

const isRoot = process.getuid?.() === 0;
const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel']).status === 0;
const skip = (!isRoot && 'needs root: the agent must be root to run apps as their users, and it makes users')
  || (!hasUseradd && 'useradd/userdel are not installed (Debian\'s passwd package; .ci/run installs it)');

const tag = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
/** Names unique to this run: the apps, and the shared user of the first config. */
const APP_A = `au${tag}a`;
const APP_B = `au${tag}b`;
const SHARED = `sw-shared-${tag}`;
const userOf = (app: string) => `slipway-${app}`;

let dir: string;
let agent: LocalAgent | undefined;
interface Repo { dir: string; port: number; app: string; release(version: string, files?: Record<string, string>): void }
let a: Repo;
let b: Repo;

/** server.js of examples/hello with a probe run at each /version: the peer's dirs (PEER_DATA, PEER_TMP) and its own. */
function probeServer(original: string): string {
  const probe = `
fs.writeFileSync(\`\${process.env.SLIPWAY_DATA_DIR}/secret-\${process.env.SLIPWAY_VERSION}\`, \`\${process.env.SLIPWAY_APP}'s secret\\n\`);
const probe = () => {
  const out = {};
  const tryIt = (name, fn) => {
    try { const r = fn(); out[name] = r === undefined ? 'ok' : r; } catch (err) { out[name] = err.code || String(err); }
  };
  const own = process.env.SLIPWAY_DATA_DIR;
  const peer = process.env.PEER_DATA;
  tryIt('write_own_data', () => { fs.writeFileSync(\`\${own}/scratch\`, 'x'); });
  tryIt('write_own_tmp', () => { fs.writeFileSync(\`\${process.env.SLIPWAY_TMP_DIR}/scratch\`, 'x'); });
  tryIt('own_secrets', () => fs.readdirSync(own).filter((n) => n.startsWith('secret-')).sort().join(','));
  tryIt('read_own_first', () => fs.readFileSync(\`\${own}/secret-1.0.0\`, 'utf8').trim());
  tryIt('list_peer_data', () => { fs.readdirSync(peer); });
  tryIt('read_peer_file', () => { fs.readFileSync(\`\${peer}/secret-1.0.0\`); });
  tryIt('write_peer_data', () => { fs.writeFileSync(\`\${peer}/planted\`, 'x'); });
  tryIt('list_peer_tmp', () => { fs.readdirSync(process.env.PEER_TMP); });
  return out;
};
`;
  const marker = "const here = new URL('.', import.meta.url);";
  assert.ok(original.includes(marker));
  const out = original.replace(marker, `${probe}${marker}`)
    .replace('JSON.stringify({ app, version, pid: process.pid, host, greeting, message })', 'JSON.stringify({ app, version, pid: process.pid, host, greeting, message, probe: probe() })');
  assert.ok(out.includes('probe: probe() })'), 'the /version answer carries the probe');
  return out;
}

/** slipway.yaml for APP on PORT: tasks that tell who they run as and try to read a dir given as an argument; a health command that leaves its uid behind. */
function appYaml(text: string, app: string, port: number): string {
  const out = text.replace(/^app: .*$/m, `app: ${app}`).replace(/port: \d+/, `port: ${port}`)
    .replace('    timeout_s: 30', '    command: [sh, -c, \'id -u > "$SLIPWAY_TMP_DIR/health-uid"\']\n    timeout_s: 30')
    .replace(/^environments:/m, [
      'tasks:',
      '  whoami: [sh, -c, "echo uid=$(id -u) gid=$(id -g) user=$USER"]',
      '  peek: [sh, -c, \'ls "$1" && cat "$1"/secret-1.0.0\', peek]',
      'environments:',
    ].join('\n'));
  assert.match(out, new RegExp(`^app: ${app}$`, 'm'));
  assert.match(out, /command: \[sh, -c, 'id -u/);
  return out;
}

function idOf(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** The effective uid of a process. */
function euid(pid: number): number {
  return Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

const dataOf = (app: string) => join(agent!.stateDir, 'apps', app, 'data');
const tmpOf = (app: string) => join(agent!.stateDir, 'apps', app, 'tmp');

interface Version { app: string; version: string; pid: number; probe: Record<string, string> }
async function version(r: Repo): Promise<Version> {
  return JSON.parse((await get(appHost(agent!), r.port)).body) as Version;
}

/** Polls until check() holds (a generous deadline, not a timing assumption). */
async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (check()) return;
    } catch { /* not there yet */ }
    if (Date.now() > end) assert.fail(`not within ${ms / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ok(r: Repo, ...args: string[]): Promise<string> {
  const c = await cli(r.dir, ...args);
  assert.equal(c.code, 0, `slipway ${args.join(' ')}: ${c.stdout}${c.stderr}`);
  return c.stdout;
}

before(async () => {
  if (skip) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SHARED], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  dir = tempDir('app-users');
  chmodSync(dir, 0o711); // the apps' users pass through it to the state dir
  // First config: every app as one shared user (as before app_users).
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.3`, extraConfig: `app_user: ${SHARED}\n` });
  await agent.start();
  const hello = await makeAppRepo(dir, [agent.address]);
  const server = probeServer(readFileSync(join(hello.dir, 'server.js'), 'utf8'));
  const template = readFileSync(join(hello.dir, 'slipway.yaml'), 'utf8');
  const repo = (app: string, from: string): Repo => {
    const d = join(dir, app);
    cpSync(from, d, { recursive: true });
    const port = appPort();
    writeFileSync(join(d, 'slipway.yaml'), appYaml(template, app, port));
    writeFileSync(join(d, 'server.js'), server);
    return {
      dir: d, port, app,
      release(v: string, files: Record<string, string> = {}) {
        const pkgFile = join(d, 'package.json');
        writeFileSync(pkgFile, `${JSON.stringify({ ...JSON.parse(readFileSync(pkgFile, 'utf8')) as object, version: v }, null, 2)}\n`);
        for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
        git(d, 'add', '-A');
        git(d, 'commit', '-q', '--allow-empty', '-m', `release ${v}`);
        git(d, 'tag', '-f', v);
      },
    };
  };
  a = repo(APP_A, hello.dir);
  b = repo(APP_B, hello.dir);
  for (const [r, peer] of [[a, APP_B], [b, APP_A]] as const) {
    r.release('1.0.0', { 'message.txt': `${r.app} first\n` });
    // The second app's 1.1.0 upgrades in place through an upgrade command, which leaves its uid behind.
    const yaml = readFileSync(join(r.dir, 'slipway.yaml'), 'utf8');
    const upgraded = yaml.replace(/^ {2}upgrade: hot$/m, '  upgrade: [sh, -c, \'id -u > "$SLIPWAY_TMP_DIR/upgrade-uid"\']');
    assert.notEqual(upgraded, yaml);
    r.release('1.1.0', { 'message.txt': `${r.app} second\n`, ...(r === b ? { 'slipway.yaml': upgraded } : {}) });
    for (const v of ['1.0.0', '1.1.0']) await ok(r, 'build', v);
    await ok(r, 'env', 'staging', 'set', `PEER_DATA=${dataOf(peer)}`, `PEER_TMP=${tmpOf(peer)}`);
  }
});

after(async () => {
  if (agent) {
    await agent.stop('SIGKILL');
    killAppsUnder(agent.stateDir);
  }
  if (dir) cleanup(dir);
  if (skip) return;
  for (const u of [SHARED, userOf(APP_A), userOf(APP_B)]) {
    if (!idOf(u)) continue;
    // userdel refuses a user whose processes still run: the apps killed above may take a moment to go.
    await until(() => spawnSync('pgrep', ['-u', u]).status === 1, `no process of ${u} left`).catch(() => undefined);
    spawnSync('userdel', [u]);
  }
});

test('under app_user the first app runs as the shared user', { skip }, async () => {
  await ok(a, 'deploy', 'staging', '1.0.0');
  const v = await version(a);
  assert.equal(euid(v.pid), idOf(SHARED)!.uid);
  assert.equal(v.probe.own_secrets, 'secret-1.0.0');
  assert.equal(lstatSync(join(dataOf(APP_A), 'secret-1.0.0')).uid, idOf(SHARED)!.uid);
});

test('app_users: per_app: each app runs as its own user, made by the agent; the first app\'s data is handed over and kept', { skip }, async () => {
  // The agent comes back with per_app (the app keeps running meanwhile, as the shared user).
  await agent!.stop('SIGTERM');
  writeFileSync(agent!.configFile, readFileSync(agent!.configFile, 'utf8').replace(`app_user: ${SHARED}`, 'app_users: per_app'));
  await agent!.start();
  // Made at the start for the apps on the host (the second one is, since its env set, not yet deployed).
  const ua = idOf(userOf(APP_A));
  assert.ok(ua && ua.uid > 0, `the agent made ${userOf(APP_A)} at its start`);
  assert.equal(agent!.logged(`made the system user ${userOf(APP_A)}`).length, 1);
  // The process found running keeps its uid until it restarts, and the agent says so.
  await until(() => agent!.logged(`runs as uid ${idOf(SHARED)!.uid}, but the agent config now runs it as ${userOf(APP_A)} (uid ${ua.uid}): restart it`).length === 1, 'the warning about the running process\'s user');

  await ok(b, 'deploy', 'staging', '1.0.0');
  await ok(a, 'deploy', 'staging', '1.1.0');
  const ub = idOf(userOf(APP_B));
  assert.ok(ub && ub.uid > 0 && ub.uid !== ua.uid);
  assert.notEqual(ub.gid, ua.gid, 'each its own group too');
  const va = await version(a);
  const vb = await version(b);
  assert.equal(va.version, '1.1.0');
  assert.equal(euid(va.pid), ua.uid);
  assert.equal(euid(vb.pid), ub.uid);

  // The data dir changed hands with what it holds; the redeploy kept it.
  assert.equal(va.probe.own_secrets, 'secret-1.0.0,secret-1.1.0');
  assert.equal(va.probe.read_own_first, `${APP_A}'s secret`);
  for (const [app, u] of [[APP_A, ua], [APP_B, ub]] as const) {
    for (const d of [dataOf(app), tmpOf(app), join(dataOf(app), 'secret-1.0.0')]) {
      const st = lstatSync(d);
      assert.deepEqual([st.uid, st.gid], [u.uid, u.gid], d);
    }
    for (const d of [dataOf(app), tmpOf(app)]) assert.equal((lstatSync(d).mode & 0o777).toString(8), '700', d);
  }
  const handed = agent!.logged('belonged to uid');
  assert.equal(handed.length, 2, `the data and tmp dirs of the first app, each once (no new, empty dir): ${handed.join('\n')}`);
  for (const l of handed) assert.match(l, new RegExp(`belonged to uid ${idOf(SHARED)!.uid}: handed over, with what it holds, to ${userOf(APP_A)}`));

  // Neither reads, lists or writes the other's; each writes its own.
  for (const v of [va, vb]) {
    for (const k of ['write_own_data', 'write_own_tmp']) assert.equal(v.probe[k], 'ok', `${v.app} ${k}: ${v.probe[k]}`);
    for (const k of ['list_peer_data', 'read_peer_file', 'write_peer_data', 'list_peer_tmp']) assert.equal(v.probe[k], 'EACCES', `${v.app} ${k}: ${v.probe[k]}`);
  }
  assert.equal(vb.probe.read_own_first, `${APP_B}'s secret`);
});

test('tasks, health check commands and upgrade commands run as the app\'s own user; a task cannot read the other app\'s data', { skip }, async () => {
  for (const [r, peer] of [[a, APP_B], [b, APP_A]] as const) {
    const u = idOf(userOf(r.app))!;
    assert.match(await ok(r, 'run', 'staging', 'whoami'), new RegExp(`uid=${u.uid} gid=${u.gid} user=${userOf(r.app)}\\b`));
    const own = await ok(r, 'run', 'staging', 'peek', '--', dataOf(r.app));
    assert.match(own, new RegExp(`${r.app}'s secret`));
    const theirs = await cli(r.dir, 'run', 'staging', 'peek', '--', dataOf(peer));
    assert.notEqual(theirs.code, 0, theirs.stdout);
    assert.match(theirs.stdout + theirs.stderr, /Permission denied/);
    assert.doesNotMatch(theirs.stdout + theirs.stderr, /secret/);
    // The health check command wrote its uid into the app's tmp dir, as the app's user (polled: the check
    // races READY=1, and the command may end after the deploy did).
    const f = join(tmpOf(r.app), 'health-uid');
    await until(() => readFileSync(f, 'utf8').trim() === String(u.uid), `${f} says ${u.uid}`);
    assert.equal(lstatSync(f).uid, u.uid);
  }
  // An upgrade command runs as the app's user too (the same process carries on, now recorded as 1.1.0).
  const before = await version(b);
  await ok(b, 'deploy', 'staging', '1.1.0');
  const ub = idOf(userOf(APP_B))!;
  const f = join(tmpOf(APP_B), 'upgrade-uid');
  assert.equal(readFileSync(f, 'utf8').trim(), String(ub.uid));
  assert.equal(lstatSync(f).uid, ub.uid);
  assert.equal((await version(b)).pid, before.pid, 'upgraded in place');
});

test('slipway-agent --check: the users of the config, found or missing (exit 2, naming the key and what to do); per_app lists the apps\' users', { skip }, () => {
  const check = (name: string, lines: string[]) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, ['listen: 127.0.0.1:0', 'http: 127.0.0.1:0', `state_dir: ${agent!.stateDir}`, 'tls: { insecure: true }', 'allow_unsigned: true', ...lines, ''].join('\n'));
    return spawnSync(process.execPath, [AGENT_BIN, '--config', file, '--check'], { encoding: 'utf8', timeout: 60_000 });
  };
  const missing = `nosuch${tag}`;
  const bad = check('map', [`app_user: ${userOf(APP_A)}`, `app_users: { ${APP_B}: ${missing} }`]);
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stdout, new RegExp(`^ok {3}app_user: ${userOf(APP_A)} \\(uid ${idOf(userOf(APP_A))!.uid}\\)$`, 'm'));
  assert.match(bad.stdout, new RegExp(`^FAIL app_users\\.${APP_B}: user "${missing}" does not exist on this host; create it \\(useradd .*${missing}\\) or change app_users\\.${APP_B}$`, 'm'));
  const both = check('both', [`app_user: ${userOf(APP_A)}`, 'app_users: per_app']);
  assert.equal(both.status, 2);
  assert.match(both.stdout + both.stderr, /app_users: per_app gives every app its own user, so app_user .* would name nobody's: remove one of them/);
  const perApp = check('per-app', ['app_users: per_app']);
  assert.match(perApp.stdout, new RegExp(`^ok {3}app_users: per_app: each app runs as its own user, slipway-<app> \\(users there: .*${userOf(APP_A)} \\(uid \\d+\\)`, 'm'));
});
