// The agent's start as an operator meets it (issue 13, items 3 and 4):
// `--check` does what the start does short of serving, so a config it passes
// is one the agent starts with, and a bad one is named, not a stack trace; a
// second agent on a state dir in use refuses, naming the first one's pid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tempDir, testPki, makeAppRepo, startAgents, stopAgents, cleanup, cli, waitFor, appHost, get, type AppRepo } from '../helpers/env.js';
import { AGENT_BIN, type LocalAgent } from '../../scripts/local-fleet.js';
import { issue } from '../../coordinator/certs.js';
import type { Pki } from '../../scripts/pki.js';

let dir: string;
let pki: Pki;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('agent-start');
  agents = await startAgents(dir, 1);
  pki = await testPki(dir);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

const agentCmd = (...args: string[]) => spawnSync(process.execPath, [AGENT_BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

/** A config of an agent on its own state dir, with mTLS files as given. */
function config(name: string, lines: string[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, ['listen: 127.0.0.1:0', 'http: 127.0.0.1:0', `state_dir: ${join(dir, `${name}-state`)}`, ...lines, ''].join('\n'));
  return file;
}

test('--check passes a good config, line by line, and the agent starts with it', async () => {
  const cert = await pki.agentCert('good');
  const file = config('good', [`tls: { ca: ${pki.ca}, cert: ${cert.cert}, key: ${cert.key} }`, `trusted_keys: [${pki.signing.public}]`]);
  const r = agentCmd('--config', file, '--check');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok {3}tls\.cert: .*valid until/m);
  assert.match(r.stdout, /^ok {3}trusted_keys: 1 key/m);
  assert.match(r.stdout, /^ok {3}state_dir: /m);
  assert.match(r.stdout, /^ok {3}listen: 127\.0\.0\.1:0 free/m);
  assert.match(r.stdout, /valid, and this host has what the agent needs/);
});

test('--check refuses what the start would fail on, naming it (exit 2), and the start names it too, without a stack', async () => {
  const cert = await pki.agentCert('bad');
  const other = await pki.agentCert('other');
  const expired = await issue(pki.dir, 'expired', 'agent', { hosts: ['127.0.0.1'], validity: { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) } });
  const deployer = pki.deployer;
  const port: Server = createServer();
  await new Promise<void>((r) => port.listen(0, '127.0.0.1', r));
  const busy = (port.address() as { port: number }).port;
  const cases: [string, string[], RegExp][] = [
    ['missing CA', [`tls: { ca: ${join(dir, 'no-ca.pem')}, cert: ${cert.cert}, key: ${cert.key} }`, `trusted_keys: [${pki.signing.public}]`], /FAIL tls: cannot read the CA certificate \(tls\.ca\) .*no-ca\.pem: ENOENT/],
    ['missing trusted key', [`tls: { ca: ${pki.ca}, cert: ${cert.cert}, key: ${cert.key} }`, `trusted_keys: [${join(dir, 'gone.pub')}]`], /FAIL trusted_keys: .*gone\.pub/],
    ['key of another certificate', [`tls: { ca: ${pki.ca}, cert: ${cert.cert}, key: ${other.key} }`, `trusted_keys: [${pki.signing.public}]`], /FAIL tls: .*is not the private key of/],
    ['expired certificate', [`tls: { ca: ${pki.ca}, cert: ${expired.cert}, key: ${expired.key} }`, `trusted_keys: [${pki.signing.public}]`], /FAIL tls\.cert: .*expired on/],
    ['a deployer certificate', [`tls: { ca: ${pki.ca}, cert: ${deployer.cert}, key: ${deployer.key} }`, `trusted_keys: [${pki.signing.public}]`], /FAIL tls\.cert: .*has role deployer; an agent needs an agent certificate/],
    ['no such app_user', ['tls: { insecure: true }', 'allow_unsigned: true', 'app_user: nosuchuser'], /FAIL app_user: app_user "nosuchuser" does not exist/],
  ];
  try {
    for (const [name, lines, expect] of cases) {
      const file = config(name.replace(/ /g, '-'), lines);
      const r = agentCmd('--config', file, '--check');
      assert.equal(r.status, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, expect, name);
      assert.match(r.stdout, /problem\(s\); the agent would not start/, name);
      // The start says the same, and exits 2, with no stack trace.
      const start = agentCmd('--config', file);
      assert.equal(start.status, 2, `${name} start: ${start.stderr}`);
      assert.match(start.stderr, expect, `${name} start`);
      assert.doesNotMatch(start.stderr + start.stdout, /\n\s+at /, `${name}: no stack trace`);
    }
    const taken = config('busy-port', ['tls: { insecure: true }', 'allow_unsigned: true']);
    writeFileSync(taken, readFileSync(taken, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${busy}`));
    const r = agentCmd('--config', taken, '--check');
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stdout, new RegExp(`FAIL listen: cannot bind 127\\.0\\.0\\.1:${busy}: EADDRINUSE`));
  } finally {
    port.close();
  }
});

test('a second agent on a state dir in use refuses, naming the first one\'s pid; after a kill -9 of the first, the state dir is free again', async () => {
  const [a] = agents;
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  assert.equal((await cli(repo.dir, 'deploy', 'staging', '1.0.0')).code, 0);
  // The same config (so the same state dir), on other ports.
  const second = join(dir, 'second.yaml');
  copyFileSync(a.configFile, second);
  writeFileSync(second, readFileSync(second, 'utf8').replace(/^listen: .*$/m, 'listen: 127.0.0.1:0').replace(/^http: .*$/m, 'http: 127.0.0.1:0').replace(/^state_dir: state$/m, `state_dir: ${a.stateDir}`));
  const r = agentCmd('--config', second);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`another slipway-agent \\(pid ${a.child!.pid}\\) already runs on state_dir ${a.stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // --check beside the running agent says so, and passes: checking a config beside it is normal.
  const check = agentCmd('--config', a.configFile, '--check');
  assert.equal(check.status, 0, check.stdout);
  assert.match(check.stdout, new RegExp(`an agent runs on it now \\(pid ${a.child!.pid}\\)`));
  assert.match(check.stdout, /listen: .* in use, by the running agent/);
  // The process is found by its name.
  assert.equal(readFileSync(`/proc/${a.child!.pid}/comm`, 'utf8').trim(), 'slipway-agent');
  const pidof = spawnSync('pidof', ['slipway-agent'], { encoding: 'utf8' });
  assert.ok(pidof.stdout.split(/\s+/).includes(String(a.child!.pid)), `pidof: ${pidof.stdout}`);

  // kill -9: the kernel drops the lock with the process (the supervising process and the app live on).
  await a.stop('SIGKILL');
  await a.start();
  assert.equal((await get(appHost(a), repo.port)).status, 200);
  await waitFor(async () => (await cli(repo.dir, 'status', 'staging')).code === 0, 'status after the restart');
});

test('under systemd (JOURNAL_STREAM is its stdout) each log line carries its syslog priority for journald; elsewhere plain JSON lines', async () => {
  const file = config('journal', [`tls: { ca: ${join(dir, 'no-ca.pem')}, cert: ${join(dir, 'no.pem')}, key: ${join(dir, 'no-key.pem')} }`, 'allow_unsigned: true']);
  // The shell's own stdout (fd 1 of $$) is the pipe the agent inherits: its device and inode are what systemd would set.
  const journal = spawnSync('sh', ['-c', `JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/1) exec '${process.execPath}' '${AGENT_BIN}' --config '${file}'`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(journal.status, 2, journal.stderr);
  const lines = journal.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 0, journal.stderr);
  for (const l of lines) assert.match(l, /^<\d>\{/, l);
  assert.ok(lines.some((l) => l.startsWith('<2>{') && l.includes('"level":60') && l.includes('cannot read the CA certificate')), lines.join('\n'));
  // A JOURNAL_STREAM that is not this stdout (a child of a unit writing to a file, say): no prefix.
  const other = spawnSync(process.execPath, [AGENT_BIN, '--config', file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, JOURNAL_STREAM: '1:1' } });
  assert.equal(other.status, 2);
  for (const l of other.stdout.split('\n').filter(Boolean)) assert.match(l, /^\{/, l);
});
