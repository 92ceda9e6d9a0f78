// Apps without root: an agent running as root with app_user runs the app,
// its tasks and its upgrades as that user, which can read and run its
// release but not change it, and cannot read the state, the store, the
// locks, the agent's identity, its host settings or the agent's TLS key,
// nor write its own logs. A variant of examples/hello tries each at start
// and reports what happened in /version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, newAgent, cleanup, cli, get, appHost, type AppRepo } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';

const isRoot = process.getuid?.() === 0;
const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel']).status === 0;
const skip = (!isRoot && 'needs root: the agent must be root for app_user to apply, and the test creates a user')
  || (!hasUseradd && 'useradd/userdel are not installed');

const userName = `slipway-test-${Math.floor(Math.random() * 1e5)}`;
let user: { uid: number; gid: number } | undefined;
let dir: string;
let agent: LocalAgent | undefined;
let repo: AppRepo;
let keyFile: string;

/** server.js of examples/hello with a probe run at start, its results in /version's "probe". */
function probeServer(original: string, tlsKey: string): string {
  const probe = `
const probe = {};
{
  const rel = process.cwd();
  const state = \`\${rel}/../../../..\`;
  const tryIt = (name, fn) => {
    try { fn(); probe[name] = 'ok'; } catch (err) { probe[name] = err.code || String(err); }
  };
  tryIt('read_own_release', () => fs.readFileSync(\`\${rel}/message.txt\`));
  tryIt('write_release', () => fs.writeFileSync(\`\${rel}/planted.txt\`, 'x'));
  tryIt('write_release_lib', () => fs.writeFileSync(\`\${rel}/lib/planted.js\`, 'x'));
  tryIt('append_server', () => fs.appendFileSync(\`\${rel}/server.js\`, '// x'));
  tryIt('chmod_server', () => fs.chmodSync(\`\${rel}/server.js\`, 0o777));
  tryIt('rename_message', () => fs.renameSync(\`\${rel}/message.txt\`, \`\${rel}/moved.txt\`));
  tryIt('list_releases', () => fs.readdirSync(\`\${rel}/..\`));
  tryIt('read_state', () => fs.readFileSync(\`\${rel}/../../state.json\`));
  tryIt('list_store', () => fs.readdirSync(\`\${rel}/../../store\`));
  tryIt('read_shared_env', () => fs.readFileSync(\`\${rel}/../../shared/env\`));
  tryIt('append_log', () => fs.appendFileSync(\`\${rel}/../../logs/app.log\`, 'forged\\n'));
  tryIt('read_locks', () => fs.readFileSync(\`\${state}/locks.json\`));
  tryIt('read_agent_json', () => fs.readFileSync(\`\${state}/agent.json\`));
  tryIt('read_history', () => fs.readFileSync(\`\${state}/history.jsonl\`));
  tryIt('read_tls_key', () => fs.readFileSync(${JSON.stringify(tlsKey)}));
  tryIt('write_data_dir', () => fs.writeFileSync(\`\${process.env.SLIPWAY_DATA_DIR}/seen-\${process.env.SLIPWAY_VERSION}\`, 'x'));
  tryIt('write_tmp_dir', () => fs.writeFileSync(\`\${process.env.SLIPWAY_TMP_DIR}/scratch\`, 'x'));
  tryIt('tmpdir_is_own', () => { if (process.env.TMPDIR !== process.env.SLIPWAY_TMP_DIR) throw new Error(\`TMPDIR \${process.env.TMPDIR}\`); });
  try { probe.data_files = fs.readdirSync(process.env.SLIPWAY_DATA_DIR).sort().join(','); } catch (err) { probe.data_files = err.code; }
}
`;
  const marker = "const here = new URL('.', import.meta.url);";
  assert.ok(original.includes(marker));
  const withProbe = original.replace(marker, `${probe}${marker}`)
    .replace('JSON.stringify({ app, version, pid: process.pid, host, greeting, message })', 'JSON.stringify({ app, version, pid: process.pid, host, greeting, message, probe })');
  assert.ok(withProbe.includes('message, probe })'), 'the /version answer carries the probe');
  return withProbe;
}

/** Uid and Gid lines of /proc/<pid>/status: [real, effective, saved, fs], and the supplementary groups. */
function ids(pid: number): { uid: number[]; gid: number[]; groups: string } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = (k: string) => (new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(text)?.[1] ?? '').trim();
  return { uid: line('Uid').split(/\s+/).map(Number), gid: line('Gid').split(/\s+/).map(Number), groups: line('Groups') };
}

before(async () => {
  if (skip) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', userName], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const id = (flag: string) => Number(spawnSync('id', [flag, userName], { encoding: 'utf8' }).stdout.trim());
  user = { uid: id('-u'), gid: id('-g') };
  assert.ok(user.uid > 0);
  dir = tempDir('app-user');
  // mkdtemp makes it 0700: app_user must pass through it to reach the state dir (the PKI under it stays 0700).
  chmodSync(dir, 0o711);
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, extraConfig: `app_user: ${userName}\n` });
  keyFile = agent.opts.tls!.key;
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  const yamlFile = join(repo.dir, 'slipway.yaml');
  const yaml = `${readFileSync(yamlFile, 'utf8')}tasks:\n  whoami: [sh, -c, "echo uid=$(id -u) gid=$(id -g) user=$USER logname=$LOGNAME home=$HOME; touch planted-by-task 2>/dev/null && echo wrote || echo cannot write"]\n`;
  const server = probeServer(readFileSync(join(repo.dir, 'server.js'), 'utf8'), keyFile);
  repo.release('1.0.0', { 'slipway.yaml': yaml, 'server.js': server, 'message.txt': 'first\n' });
  repo.release('1.1.0', { 'message.txt': 'second\n' });
  for (const v of ['1.0.0', '1.1.0']) {
    const b = await cli(repo.dir, 'build', v);
    assert.equal(b.code, 0, b.stderr);
  }
  // A host setting, so that shared/env exists (the app must be on the host first).
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '1.0.0', '--upload-only')).code, 0);
  const e = await cli(repo.dir, 'env', 'staging', 'set', 'HELLO_GREETING=hi');
  assert.equal(e.code, 0, e.stdout + e.stderr);
});

after(async () => {
  if (agent) {
    await agent.stop('SIGKILL');
    killAppsUnder(agent.stateDir);
  }
  if (dir) cleanup(dir);
  if (user) spawnSync('userdel', [userName]);
});

interface Version { version: string; pid: number; greeting: string; message: string; probe: Record<string, string> }

async function version(): Promise<Version> {
  return JSON.parse((await get(appHost(agent!), repo.port)).body) as Version;
}

test('the app runs as app_user, reads and runs its release, and can change nothing of it nor read the agent\'s files', { skip }, async () => {
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const v = await version();
  assert.equal(v.version, '1.0.0');
  assert.equal(v.greeting, 'hi', 'the host setting reaches the app through the agent');
  assert.equal(v.message, 'first');
  const { uid, gid, groups } = ids(v.pid);
  assert.deepEqual(uid, [user!.uid, user!.uid, user!.uid, user!.uid], 'real, effective, saved and fs uid');
  assert.deepEqual(gid, [user!.gid, user!.gid, user!.gid, user!.gid]);
  assert.equal(groups, '', 'no supplementary groups (none of root\'s)');

  assert.equal(v.probe.read_own_release, 'ok');
  for (const k of ['write_data_dir', 'write_tmp_dir', 'tmpdir_is_own']) assert.equal(v.probe[k], 'ok', `${k}: ${v.probe[k]}`);
  assert.equal(v.probe.data_files, 'seen-1.0.0');
  for (const k of ['write_release', 'write_release_lib', 'append_server', 'rename_message', 'list_releases', 'read_state', 'list_store',
    'read_shared_env', 'append_log', 'read_locks', 'read_agent_json', 'read_history', 'read_tls_key']) {
    assert.equal(v.probe[k], 'EACCES', `${k}: ${v.probe[k]}`);
  }
  assert.equal(v.probe.chmod_server, 'EPERM', 'not the owner of its files');

  // Seen from the agent's side: the release tree is root's, 0755/0644, and nothing was planted.
  const releases = join(agent!.stateDir, 'apps', 'hello', 'releases');
  const rel = join(releases, readdirSync(releases).find((n) => n.startsWith('1.0.0-'))!);
  const walk = (p: string): void => {
    const st = lstatSync(p);
    assert.equal(st.uid, 0, `${p} is root's`);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      assert.equal(mode, 0o755, p);
      for (const n of readdirSync(p)) walk(join(p, n));
    } else {
      assert.ok(mode === 0o644 || mode === 0o755, `${p} is ${mode.toString(8)}`);
    }
  };
  walk(rel);
  assert.equal(existsSync(join(rel, 'planted.txt')), false);
  const mode = (p: string) => (lstatSync(p).mode & 0o777).toString(8);
  const app = join(agent!.stateDir, 'apps', 'hello');
  assert.deepEqual(
    { apps: mode(join(agent!.stateDir, 'apps')), app: mode(app), releases: mode(releases), store: mode(join(app, 'store')), state: mode(join(app, 'state.json')),
      shared: mode(join(app, 'shared')), logs: mode(join(app, 'logs')), agent_json: mode(join(agent!.stateDir, 'agent.json')), locks: mode(join(agent!.stateDir, 'locks.json')) },
    { apps: '711', app: '711', releases: '711', store: '700', state: '600', shared: '700', logs: '750', agent_json: '600', locks: '600' },
  );
  assert.doesNotMatch(readFileSync(join(app, 'logs', 'app.log'), 'utf8'), /forged/);
  // The app's own places: app_user's, 0700 (no other user reads them), outside the releases.
  for (const own of ['data', 'tmp']) {
    const st = lstatSync(join(app, own));
    assert.deepEqual([st.uid, st.gid, (st.mode & 0o777).toString(8)], [user!.uid, user!.gid, '700'], own);
  }
  assert.equal(agent!.logged('can read the agent\'s TLS key').length, 0);
  assert.equal(agent!.logged('cannot reach').length, 0);
});

test('tasks run as app_user and cannot write the release either; a hot upgrade runs the new version as app_user', { skip }, async () => {
  const r = await cli(repo.dir, 'run', 'staging', 'whoami');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`uid=${user!.uid} gid=${user!.gid}`));
  // Its own identity in the environment, not the agent's (root's HOME and USER).
  const home = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${userName}:`))!.split(':')[5];
  assert.match(r.stdout, new RegExp(`user=${userName} logname=${userName} home=${home}\\b`));
  assert.match(r.stdout, /cannot write/);

  const d = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const v = await version();
  assert.equal(v.version, '1.1.0');
  assert.equal(v.message, 'second');
  assert.equal(ids(v.pid).uid[1], user!.uid);
  assert.equal(v.probe.data_files, 'seen-1.0.0,seen-1.1.0', 'the data dir is kept across releases');
  assert.equal(v.probe.write_release, 'EACCES');
  assert.equal(v.probe.read_state, 'EACCES');
});
