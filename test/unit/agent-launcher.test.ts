// systemd/agent-launcher.sh, the unit's way to start the agent: run for real
// (sh) over a temp home with fake builds (shell scripts that print what they
// were started as), its clock injected (SLIPWAY_LAUNCHER_NOW). The decision
// alone (--decide), then each path: no upgrade, an unconfirmed upgrade's
// attempts, too many attempts, the deadline, a failing --check, a marker
// whose switch never happened, and a hung build ended by the watcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'systemd', 'agent-launcher.sh');
const T0 = 1_900_000_000;

function launch(home: string, args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync('sh', [LAUNCHER, ...args, '--home', home, '--installed', join(home, '..', 'installed'), '--', '--config', 'agent.yaml'], {
    encoding: 'utf8', env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A home with the installed build and builds A and B, each a script that prints its name, its args and SLIPWAY_AGENT_BUILD. */
function fixture(opts: { failB?: number; checkFailB?: boolean } = {}): string {
  const base = mkdtempSync(join(tmpdir(), 'slipway-launcher-'));
  const home = join(base, 'home');
  const script = (file: string, name: string, exit = 0, checkFails = false) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\necho "${name} $* build=$SLIPWAY_AGENT_BUILD home=$SLIPWAY_AGENT_HOME"\n${checkFails ? 'case "$*" in *--check*) exit 2 ;; esac\n' : ''}exit ${exit}\n`);
    chmodSync(file, 0o755);
  };
  script(join(base, 'installed'), 'installed');
  script(join(home, 'builds', 'a', 'bin', 'slipway-agent'), 'A');
  script(join(home, 'builds', 'b', 'bin', 'slipway-agent'), 'B', opts.failB ?? 0, opts.checkFailB);
  return home;
}

/** The state the agent leaves at the switch A → B (previous was the installed build). */
function switched(home: string, attempts = 0, at = T0): void {
  symlinkSync('builds/b', join(home, 'current'));
  symlinkSync('builds/a', join(home, 'previous'));
  writeFileSync(join(home, 'upgrade'), `to=builds/b\nfrom=builds/a\nprevious=installed\nswitched_at=${at}\nattempts=${attempts}\n`);
}

const field = (home: string, file: string, key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(join(home, file), 'utf8'))?.[1];

test('the decision: run while attempts and the deadline allow; roll back past either', () => {
  const decide = (attempts: number, at: number, now: number, env: Record<string, string> = {}) =>
    spawnSync('sh', [LAUNCHER, '--decide', String(attempts), String(at), String(now)], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
  assert.equal(decide(1, T0, T0), 'run');
  assert.equal(decide(3, T0, T0 + 59), 'run');
  assert.match(decide(4, T0, T0 + 10), /^rollback started 3 times/);
  assert.match(decide(1, T0, T0 + 60), /^rollback not confirmed healthy within 60 s/);
  assert.equal(decide(1, T0, T0 - 3600), 'run', 'a clock set back does not roll back');
  assert.match(decide(2, T0, T0 + 5, { SLIPWAY_UPGRADE_ATTEMPTS: '1' }), /^rollback started 1 times/);
  assert.match(decide(1, T0, T0 + 5, { SLIPWAY_UPGRADE_DEADLINE_S: '5' }), /^rollback not confirmed healthy within 5 s/);
});

test('no upgrade: the installed build runs, then whatever current names', () => {
  const home = fixture();
  try {
    let r = launch(home, []);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^installed --config agent.yaml build=installed home=.*home$/m);
    symlinkSync('builds/a', join(home, 'current'));
    r = launch(home, []);
    assert.match(r.out, /^A --config agent.yaml build=builds\/a/m);
    r = launch(home, ['--check']);
    assert.match(r.out, /^A --config agent.yaml --check build=builds\/a/m);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('an unconfirmed upgrade: each start is an attempt; past 3 the launcher switches back and says why', () => {
  const home = fixture({ failB: 1 });
  try {
    switched(home);
    for (let i = 1; i <= 3; i++) {
      const r = launch(home, [], { SLIPWAY_LAUNCHER_NOW: String(T0 + i * 2) });
      assert.equal(r.code, 1, 'B exits 1 at start');
      assert.match(r.out, /^B /m);
      assert.equal(field(home, 'upgrade', 'attempts'), String(i));
    }
    const r = launch(home, [], { SLIPWAY_LAUNCHER_NOW: String(T0 + 8) });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^A --config agent.yaml build=builds\/a/m);
    assert.match(r.err, /switched back from builds\/b to builds\/a: started 3 times/);
    assert.equal(readlinkSync(join(home, 'current')), 'builds/a');
    assert.equal(readlinkSync(join(home, 'previous')), 'installed', 'previous is what it was before the upgrade');
    assert.ok(!existsSync(join(home, 'upgrade')));
    assert.equal(field(home, 'rolled-back', 'from'), 'builds/b');
    assert.equal(field(home, 'rolled-back', 'to'), 'builds/a');
    assert.equal(field(home, 'rolled-back', 'at'), String(T0 + 8));
    assert.equal(field(home, 'rolled-back', 'attempts'), '3');
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /^started 3 times/);
    // And from then on A runs, with no more attempts counted.
    assert.match(launch(home, []).out, /^A /m);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('the deadline: a start after it (the watcher ended a hung build, or the host was down) switches back', () => {
  const home = fixture();
  try {
    switched(home, 1);
    const r = launch(home, [], { SLIPWAY_LAUNCHER_NOW: String(T0 + 61) });
    assert.match(r.out, /^A /m);
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /not confirmed healthy within 60 s/);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('--check failing with the new build switches back at once, and checks the old build instead', () => {
  const home = fixture({ checkFailB: true });
  try {
    switched(home);
    const r = launch(home, ['--check'], { SLIPWAY_LAUNCHER_NOW: String(T0 + 1) });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^B .*--check/m);
    assert.match(r.out, /^A .*--check build=builds\/a/m);
    assert.equal(readlinkSync(join(home, 'current')), 'builds/a');
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /--check failed with the new build builds\/b/);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('--check after the deadline switches back without running the new build; a check that hangs counts as failed', () => {
  let home = fixture();
  try {
    switched(home, 2);
    const r = launch(home, ['--check'], { SLIPWAY_LAUNCHER_NOW: String(T0 + 60) });
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /^B /m);
    assert.match(r.out, /^A .*--check/m);
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /not confirmed healthy within 60 s/);
    assert.equal(field(home, 'rolled-back', 'attempts'), '2');
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
  home = fixture();
  try {
    writeFileSync(join(home, 'builds', 'b', 'bin', 'slipway-agent'), '#!/bin/sh\nexec sleep 600\n');
    switched(home, 0, T0);
    const r = launch(home, ['--check'], { SLIPWAY_UPGRADE_DEADLINE_S: '2', SLIPWAY_LAUNCHER_NOW: String(T0) });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^A .*--check/m);
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /--check failed/);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('a marker whose switch never happened (the agent ended between the two) is dropped, previous put back as it was; current runs', () => {
  const home = fixture();
  try {
    symlinkSync('builds/a', join(home, 'current'));
    // Ended after it moved previous (to the build that runs) and before current.
    symlinkSync('builds/a', join(home, 'previous'));
    writeFileSync(join(home, 'upgrade'), `to=builds/b\nfrom=builds/a\nprevious=installed\nswitched_at=${T0}\nattempts=0\n`);
    let r = launch(home, []);
    assert.match(r.out, /^A /m);
    assert.match(r.err, /never switched/);
    assert.ok(!existsSync(join(home, 'upgrade')));
    assert.ok(!existsSync(join(home, 'rolled-back')));
    assert.equal(readlinkSync(join(home, 'previous')), 'installed');
    // A first upgrade's marker (no previous before it): previous goes.
    symlinkSync('builds/a', join(home, 'previous.x'));
    renameSync(join(home, 'previous.x'), join(home, 'previous'));
    writeFileSync(join(home, 'upgrade'), `to=builds/b\nfrom=builds/a\nprevious=\nswitched_at=${T0}\nattempts=0\n`);
    r = launch(home, []);
    assert.match(r.out, /^A /m);
    assert.ok(!lstatExists(join(home, 'previous')), 'previous removed');
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

test('a build that hangs is ended by the watcher at the deadline; the next start switches back', async () => {
  const home = fixture();
  try {
    writeFileSync(join(home, 'builds', 'b', 'bin', 'slipway-agent'), '#!/bin/sh\necho hanging\nexec sleep 600\n');
    switched(home, 0, T0);
    // The watcher waits with sleep (the real time); the decisions take the injected clock.
    const env = { ...process.env, SLIPWAY_UPGRADE_DEADLINE_S: '2', SLIPWAY_LAUNCHER_NOW: String(T0) };
    const child = spawn('sh', [LAUNCHER, '--home', home, '--installed', join(home, '..', 'installed'), '--', '--config', 'x'], { env, stdio: 'ignore' });
    const ended = await new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
    assert.equal(ended, 'SIGTERM', 'the watcher ended the hung build');
    const r = spawnSync('sh', [LAUNCHER, '--home', home, '--installed', join(home, '..', 'installed'), '--', '--config', 'x'], { encoding: 'utf8', env: { ...env, SLIPWAY_LAUNCHER_NOW: String(T0 + 3) } });
    assert.match(r.out ?? r.stdout, /^A /m);
    assert.match(field(home, 'rolled-back', 'reason') ?? '', /not confirmed healthy within 2 s/);
  } finally {
    rmSync(dirname(home), { recursive: true, force: true });
  }
});

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
