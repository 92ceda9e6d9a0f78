// The pure parts of `slipway setup` (coordinator/setup/): the probe's output
// read, the plan of a host from what should be there and what is, the ssh
// command line, and the names and ports taken from an environment's hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProbe, planHost, describeStep, type DesiredFile, type Probe } from '../../coordinator/setup/plan.js';
import { sshArgv } from '../../coordinator/setup/ssh.js';
import { splitHost, elfArch, agentYaml, pickExe, exeFile, type SetupInputs } from '../../coordinator/setup/desired.js';
import { shQuote } from '../../coordinator/setup/run.js';

const file = (path: string, sha256: string): DesiredFile => ({ path, mode: '0644', sha256, source: { data: Buffer.alloc(0) }, restarts: true });
const desired = [file('/usr/local/bin/slipway-agent', 'a'.repeat(64)), file('/etc/slipway/agent.yaml', 'b'.repeat(64))];
const probe = (over: Partial<Probe> = {}): Probe => ({
  uid: 0, arch: 'x86_64', systemd: true, user: true, running: true, appUsers: new Set(),
  files: new Map([['/usr/local/bin/slipway-agent', 'a'.repeat(64)], ['/etc/slipway/agent.yaml', 'b'.repeat(64)]]), ...over,
});

test('parseProbe reads the key=value lines and the files, missing ones as undefined', () => {
  const p = parseProbe('uid=0\narch=aarch64\nsystemd=no\nuser=yes\nrunning=no\nappuser slipway-hello\nfile /usr/local/bin/slipway-agent -\nfile /etc/slipway/agent.yaml abc\n');
  assert.deepEqual({ ...p, files: [...p.files], appUsers: [...p.appUsers] }, {
    uid: 0, arch: 'aarch64', systemd: false, user: true, running: false, appUsers: ['slipway-hello'],
    files: [['/usr/local/bin/slipway-agent', undefined], ['/etc/slipway/agent.yaml', 'abc']],
  });
  assert.throws(() => parseProbe('Welcome to the host!\n'), /not what setup expects/);
});

test('a host with everything in place and running: no step (the no-op of a second run)', () => {
  const plan = planHost(desired, probe(), 'x64');
  assert.ok(typeof plan !== 'string');
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.restart, false);
});

test('a bare host: create the user, install every file, start', () => {
  const plan = planHost(desired, probe({ user: false, running: false, files: new Map() }), 'x64');
  assert.ok(typeof plan !== 'string');
  assert.deepEqual(plan.steps.map(describeStep), [
    'create the system user and group slipway', 'install /usr/local/bin/slipway-agent', 'install /etc/slipway/agent.yaml', 'enable and start the agent',
  ]);
  assert.equal(plan.send.length, 2);
  assert.equal(plan.restart, false, 'nothing runs yet: a start, not a restart');
});

test('a changed file on a running host: update it and restart; a stopped agent with nothing changed: start only', () => {
  const changed = planHost(desired, probe({ files: new Map([['/usr/local/bin/slipway-agent', 'a'.repeat(64)], ['/etc/slipway/agent.yaml', 'c'.repeat(64)]]) }), 'x64');
  assert.ok(typeof changed !== 'string');
  assert.deepEqual(changed.steps, [{ kind: 'update', path: '/etc/slipway/agent.yaml' }, { kind: 'restart' }]);
  assert.deepEqual(changed.send.map((f) => f.path), ['/etc/slipway/agent.yaml']);
  assert.equal(changed.restart, true);
  const stopped = planHost(desired, probe({ running: false }), 'x64');
  assert.ok(typeof stopped !== 'string');
  assert.deepEqual(stopped.steps, [{ kind: 'start' }]);
});

test('a login that is not root, or another architecture: the reason, no plan', () => {
  assert.match(planHost(desired, probe({ uid: 1000 }), 'x64') as string, /uid 1000, not root/);
  assert.match(planHost(desired, probe({ arch: 'aarch64' }), 'x64') as string, /host is aarch64, the agent executable is linux-x64/);
  assert.ok(typeof planHost(desired, probe({ arch: 'aarch64' }), 'arm64') !== 'string');
});

test('setup.app_users: per_app: the app\'s own user is made where it is missing (nothing else changes), and agent.yaml says per_app', () => {
  const want = [{ name: 'slipway-hello', app: 'hello' }];
  const plan = planHost(desired, probe(), 'x64', want);
  assert.ok(typeof plan !== 'string');
  assert.deepEqual(plan.steps.map(describeStep), ['create the system user slipway-hello (app hello runs as it: app_users: per_app)']);
  assert.equal(plan.restart, false);
  const there = planHost(desired, probe({ appUsers: new Set(['slipway-hello']) }), 'x64', want);
  assert.ok(typeof there !== 'string');
  assert.deepEqual(there.steps, []);
  const inp = { trustedKey: { name: 'release-0123456789abcdef.pub', pem: Buffer.alloc(0) }, http: '127.0.0.1:7071' } as SetupInputs;
  assert.match(agentYaml('h', 7070, inp), /^app_user: slipway$/m);
  const perApp = agentYaml('h', 7070, { ...inp, appUser: want[0] });
  assert.match(perApp, /^app_users: per_app$/m);
  assert.doesNotMatch(perApp, /^app_user:/m);
});

test('ssh: BatchMode, -F for a config file, user and port only when given, the command after --', () => {
  assert.deepEqual(sshArgv({ host: 'web-1' }, 'true'), ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'ServerAliveInterval=15', '-T', 'web-1', '--', 'true']);
  assert.deepEqual(sshArgv({ host: '10.0.0.5', user: 'deploy', port: 2222, configFile: '/x/ssh_config' }, 'sh -s').slice(0, 2), ['-F', '/x/ssh_config']);
  assert.ok(sshArgv({ host: 'h', user: 'deploy', port: 2222 }, 'c').join(' ').includes('-l deploy -p 2222 -T h -- c'));
  assert.equal(shQuote("it's"), `'it'\\''s'`);
});

test('host names and ports from NAME:PORT, IPv6 in brackets', () => {
  assert.deepEqual(splitHost('web-1.internal:7070'), { name: 'web-1.internal', port: 7070 });
  assert.deepEqual(splitHost('[fd00::5]:7443'), { name: 'fd00::5', port: 7443 });
});

test('agent.yaml pins the environment\'s port and names the files setup puts beside it', () => {
  const inp = { trustedKey: { name: 'release-0123456789abcdef.pub', pem: Buffer.alloc(0) }, http: '127.0.0.1:7071' } as SetupInputs;
  const y = agentYaml('10.0.0.5', 7443, inp);
  assert.match(y, /^listen: 0\.0\.0\.0:7443$/m);
  assert.match(y, /^tls: \{ ca: \/etc\/slipway\/ca\.pem, cert: \/etc\/slipway\/agent\.pem, key: \/etc\/slipway\/agent-key\.pem \}$/m);
  assert.match(y, /^trusted_keys: \[\/etc\/slipway\/keys\/release-0123456789abcdef\.pub\]$/m);
  assert.match(agentYaml('h', 7070, { ...inp, http: false }), /^http: false$/m);
});

test('the executable\'s architecture from its ELF header; not an executable: a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-elf-'));
  try {
    const elf = (machine: number) => { const b = Buffer.alloc(64); b.writeUInt32BE(0x7f454c46, 0); b.writeUInt16LE(machine, 18); return b; };
    writeFileSync(join(dir, 'x64'), elf(0x3e));
    writeFileSync(join(dir, 'arm64'), elf(0xb7));
    writeFileSync(join(dir, 'script'), '#!/bin/sh\necho hi, I am not an ELF file\n');
    assert.equal(elfArch(join(dir, 'x64')), 'x64');
    assert.equal(elfArch(join(dir, 'arm64')), 'arm64');
    assert.throws(() => elfArch(join(dir, 'script')), /not a Linux executable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a fleet of two CPUs: each host gets the executable built for its uname -m; a CPU with none is refused, naming what there is', () => {
  const x64 = { file: 'dist/sea/slipway-agent-x64', sha256: 'a'.repeat(64), arch: 'x64' };
  const arm = { file: 'dist/sea/slipway-agent-arm64', sha256: 'b'.repeat(64), arch: 'arm64' };
  assert.equal(pickExe([x64, arm], 'x86_64'), x64);
  assert.equal(pickExe([x64, arm], 'aarch64'), arm);
  assert.equal(pickExe([x64], ''), x64, 'a host that did not say: the only build');
  const why = pickExe([x64], 'aarch64');
  assert.equal(typeof why, 'string');
  assert.match(why as string, /host is aarch64, the agent executable is linux-x64 \(build one for aarch64: node scripts\/build-sea\.mjs --arch ARCH/);
  assert.match(pickExe([x64, arm], 'riscv64') as string, /linux-x64, linux-arm64/);
  const f = exeFile(arm);
  assert.equal(f.path, '/usr/local/bin/slipway-agent');
  assert.equal(f.sha256, arm.sha256);
  assert.deepEqual(f.source, { file: arm.file });
});
