// Agent upgrades on real agents run as the unit runs them (LocalAgent's
// supervised mode: through systemd/agent-launcher.sh, its --check first, and
// started again whenever it exits), with the real hello app under paced load:
// A (the bundle as built) → B (the same bundle, another version) on 3 agents
// in batches, apps untouched; a build that fails at start, and one that hangs
// before it listens, each undone by the host itself; slipway agent rollback;
// --to VERSION (packed here before, kept on the hosts, nobody has it).
// The single executable: agent-upgrade-sea.test.ts.
// The launcher's deadline is 15 s here (SLIPWAY_UPGRADE_DEADLINE_S; 60 s in
// the unit), to keep the file's runtime modest.
// Longer than ~300 lines on purpose: the three agents, their builds and the paced load are made once and
// shared by every case (start-up costs more than most cases).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import http from 'node:http';
import { tempDir, newAgent, stopAgents, cleanup, cli, waitFor, type AppRepo } from '../helpers/env.js';
import { deployFirstRelease, fleetChecks } from '../helpers/upgrade-fleet.js';
import { supervisorPid, type LocalAgent } from '../../scripts/local-fleet.js';
import { bundleBuild } from '../helpers/agent-builds.js';
import { SLIPWAY_VERSION } from '../../common/package-info.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';

const DEADLINE_S = 15;
const B = '9.9.1';
let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
const { apps, agentVersion, loads, stopLoads, sameProcesses } = fleetChecks(() => ({ agents, repo }));

/** A build made from the real bundle: its dist/bin files with a package.json of `version`; `main` replaces the agent's own file. */
function makeBuild(name: string, version: string, main?: string): string {
  return bundleBuild(join(dir, 'builds'), name, version, main);
}

before(async () => {
  dir = tempDir('agent-upgrade');
  const octet = 10 + Math.floor(Math.random() * 200);
  agents = await Promise.all([1, 2, 3].map((i) => newAgent(dir, {
    dir: join(dir, `agent${i}`), name: `agent${i}`, appBind: `127.0.${octet}.${i + 1}`, supervised: true,
    env: { SLIPWAY_UPGRADE_DEADLINE_S: String(DEADLINE_S) },
  })));
  repo = await deployFirstRelease(dir, agents);
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

/** Seconds since the process started (/proc/<pid>/stat field 22 against /proc/uptime, at 100 ticks a second). */
function processAgeS(pid: number): number {
  const ticks = processStartTicks(pid);
  if (ticks === undefined) return 0;
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) - ticks / 100;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function metric(a: LocalAgent): Promise<string> {
  return new Promise((resolve, reject) => {
    const [host, port] = [a.httpAddress.slice(0, a.httpAddress.lastIndexOf(':')), Number(a.httpAddress.slice(a.httpAddress.lastIndexOf(':') + 1))];
    http.get({ host, port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

interface UpgradeJson { ok: boolean; version?: string; batches: string[][]; hosts: { host: string; outcome: string; from: string; to: string; message: string }[] }

test(`agent upgrade ${SLIPWAY_VERSION} → ${B} on 3 agents in batches of 2: apps keep their pids, 0 failed requests, agents report ${B}`, async () => {
  const build = makeBuild('b', B);
  const beforeApps = await apps();
  const supervisors = agents.map((a) => supervisorPid(a.stateDir));
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', build, '--batch', '2');
    // Then each supervising process is replaced by one of B (its holder starts it; it adopts the apps).
    for (const [i, a] of agents.entries()) {
      await waitFor(() => {
        const pid = supervisorPid(a.stateDir);
        return pid && pid !== supervisors[i] && cmdline(pid).includes(`/builds/${B}-`) && a.logged('the new supervising process adopted the running apps').length > 0;
      }, `${a.opts.name}: a supervising process of ${B}`, 60_000);
    }
    await waitFor(async () => (await apps()).every((s) => s.state === 'running'), 'the apps reported running by the new supervising processes');
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as UpgradeJson;
  assert.equal(out.version, B);
  assert.deepEqual(out.batches.map((b) => b.length), [2, 1]);
  for (const h of out.hosts) {
    assert.equal(h.outcome, 'upgraded', JSON.stringify(h));
    assert.equal(h.from, SLIPWAY_VERSION);
    assert.equal(h.to, B);
  }
  sameProcesses(beforeApps, await apps());
  for (const a of agents) {
    assert.equal(await agentVersion(a), B);
    assert.equal(readlinkSync(join(a.home, 'current')), `builds/${B}-${readlinkSync(join(a.home, 'current')).slice(-12)}`);
    assert.equal(readlinkSync(join(a.home, 'previous')), 'installed');
    assert.ok(!existsSync(join(a.home, 'upgrade')), 'confirmed: no marker left');
    assert.match(await metric(a), new RegExp(`^slipway_agent_info\\{version="${B.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  }
  // status's AGENT column, and the history.
  const st = await cli(repo.dir, 'status', 'staging');
  assert.equal(st.code, 0, st.stdout + st.stderr);
  for (const line of st.stdout.split('\n').filter((l) => l.includes('hello'))) assert.match(line, new RegExp(`${B.replace(/\./g, '\\.')}\\s*$`));
  const hist = await cli(repo.dir, '--json', 'history', 'staging', '--agent');
  assert.equal(hist.code, 0, hist.stdout + hist.stderr);
  const entries = (JSON.parse(hist.stdout) as { entries: { host: string; action: string; to_version: string }[] }).entries;
  for (const a of agents) {
    assert.ok(entries.some((e) => e.host === a.address && e.action === 'agent-upgrade' && e.to_version === B), `${a.address}: agent-upgrade in ${hist.stdout}`);
    assert.ok(entries.some((e) => e.host === a.address && e.action === 'agent-confirmed' && e.to_version === B));
    assert.ok(entries.some((e) => e.host === a.address && e.action === 'supervisor-upgrade' && e.to_version === B));
  }
  // Again: nothing to do.
  const again = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', build);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.ok((JSON.parse(again.stdout) as UpgradeJson).hosts.every((h) => h.outcome === 'unchanged'));
});

test('a build that exits at start is switched back by the host itself (its --check fails); the app serves throughout', async () => {
  const a = agents[0];
  const build = makeBuild('broken-exit', '9.9.2', '#!/usr/bin/env node\nconsole.error("broken build: exiting");\nprocess.exit(1);\n');
  const beforeApps = await apps();
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', build, '--host', a.address);
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const h = (JSON.parse(r.stdout) as UpgradeJson).hosts[0];
  assert.equal(h.outcome, 'rolled_back', JSON.stringify(h));
  assert.match(h.message, /--check failed/);
  assert.equal(h.to, B);
  assert.equal(await agentVersion(a), B);
  assert.ok(a.logged('switched back from builds/9.9.2-').length > 0);
  const hist = await cli(repo.dir, '--json', 'history', 'staging', '--agent', '--host', a.address);
  assert.match(hist.stdout, /"action": "agent-self-rollback"/);
  sameProcesses(beforeApps, await apps());
});

test(`a build that hangs before it listens is ended at the deadline (${DEADLINE_S} s here) and switched back; the app serves throughout`, async () => {
  const a = agents[1];
  // It passes --check (so the start is what fails), then never listens.
  const build = makeBuild('broken-hang', '9.9.3', '#!/usr/bin/env node\nif (process.argv.includes("--check")) process.exit(0);\nconsole.error("broken build: hanging");\nsetInterval(() => {}, 1000);\n');
  const beforeApps = await apps();
  const ls = loads();
  const t0 = Date.now();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', build, '--host', a.address);
  } finally {
    await stopLoads(ls);
  }
  const took = (Date.now() - t0) / 1000;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const h = (JSON.parse(r.stdout) as UpgradeJson).hosts[0];
  assert.equal(h.outcome, 'rolled_back', JSON.stringify(h));
  assert.match(h.message, new RegExp(`not confirmed healthy within ${DEADLINE_S} s`));
  assert.ok(took < DEADLINE_S + 40, `back within the deadline and a restart (${took} s)`);
  assert.equal(await agentVersion(a), B);
  sameProcesses(beforeApps, await apps());
});

test('slipway agent rollback: every host back on its previous build (the installed one), apps untouched', async () => {
  const beforeApps = await apps();
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'rollback', 'staging', '--batch', '100%');
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const h of (JSON.parse(r.stdout) as UpgradeJson).hosts) assert.equal(h.outcome, 'upgraded', JSON.stringify(h));
  for (const a of agents) {
    assert.equal(await agentVersion(a), SLIPWAY_VERSION);
    assert.equal(readlinkSync(join(a.home, 'current')), 'installed');
  }
  sameProcesses(beforeApps, await apps());
  // Nothing further back: a second rollback goes to B (previous is now B).
  assert.match(readlinkSync(join(agents[0].home, 'previous')), /^builds\/9\.9\.1-/);
});

test('a build whose supervising process fails at its start: the holder starts the old one again, the apps keep their pids and serve', async () => {
  const a = agents[2];
  const build = makeBuild('bad-supervisor', '9.9.4');
  writeFileSync(join(dirname(build), 'supervisor.mjs'), 'console.error("broken supervisor build"); process.exit(1);\n');
  // The rollback before put this host back on the installed build, and its agent replaces the supervising
  // process (of B) only after it has confirmed itself, which may be after the CLI returned: wait for that
  // hand-over, or the process read here is the one about to go.
  await waitFor(async () => {
    const h = await cli(repo.dir, '--json', 'history', 'staging', '--agent', '--host', a.address);
    const entries = (JSON.parse(h.stdout) as { entries: { action: string; to_version: string; result: string }[] }).entries;
    return entries.some((e) => e.action === 'supervisor-upgrade' && e.to_version === SLIPWAY_VERSION && e.result === 'done');
  }, 'the supervising process of the installed build after the rollback', 60_000);
  const beforeApps = await apps();
  const sup = supervisorPid(a.stateDir) as number;
  const oldCommand = cmdline(sup);
  // As on a real host, the supervising process being replaced has been up longer than the holder's
  // proof window (10 s): its own exit must not count as the new build's proof (it once did).
  await waitFor(() => processAgeS(sup) > 11, 'the supervising process to be up more than 10 s', 30_000);
  assert.equal(supervisorPid(a.stateDir), sup, 'the same supervising process throughout the wait');
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', build, '--host', a.address);
    await waitFor(async () => {
      const h = await cli(repo.dir, '--json', 'history', 'staging', '--agent', '--host', a.address);
      return /"action": "supervisor-upgrade",[^}]*"result": "failed"/.test(h.stdout);
    }, 'the failed supervisor upgrade in the history', 60_000);
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(await agentVersion(a), '9.9.4', 'the agent itself is upgraded');
  const now = supervisorPid(a.stateDir) as number;
  assert.notEqual(now, sup);
  assert.equal(cmdline(now), oldCommand, 'a supervising process of the old build runs again');
  sameProcesses(beforeApps, await apps());
});

test('bad input: a missing --to file, a version this CLI has no build of, no subcommand; an agent not run through the launcher refuses', async () => {
  let r = await cli(repo.dir, 'agent', 'upgrade', 'staging', '--to', join(dir, 'nope.mjs'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no such file/);
  r = await cli(repo.dir, 'agent', 'upgrade', 'staging', '--to', '7.0.0');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /SLIPWAY_ERR_AGENT_BUILD_NOT_FOUND/);
  assert.match(r.stderr, /no host of staging keeps an agent build of 7\.0\.0/);
  r = await cli(repo.dir, 'agent', 'upgrade', 'nowhere-env');
  assert.equal(r.code, 2, r.stderr);
  r = await cli(repo.dir, 'agent', 'upgrade', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /switched back by the host's\s+launcher/);
  // An agent started without its launcher.
  const plain = await newAgent(dir, { dir: join(dir, 'plain'), name: 'plain' });
  await plain.start();
  try {
    const yaml = join(repo.dir, 'slipway.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  nowhere:\n', `  plain:\n    hosts: [${plain.address}]\n  nowhere:\n`));
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'plain', '--to', makeBuild('b', B));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const h = (JSON.parse(r.stdout) as UpgradeJson & { hosts: { error?: { code: string } }[] }).hosts[0];
    assert.equal(h.error?.code, 'SLIPWAY_ERR_AGENT_UPGRADE');
    assert.match(h.message, /not started through its launcher/);
  } finally {
    await stopAgents([plain]);
  }
  await waitFor(() => true, 'nothing');
});

test('--to VERSION: a build packed here before, then one only the hosts keep (nothing sent); a version nobody has is refused with exit 2, nothing changed', async () => {
  // Now: agents 0 and 1 run the installed build (previous: B), agent 2 runs 9.9.4; every host keeps B's release.
  const packed = join(repo.dir, '.slipway', 'agent-builds', `slipway-agent-${B}.tar.gz`);
  assert.ok(existsSync(packed) && existsSync(`${packed}.json`), 'the first test packed B here, with its meta');
  const links = () => agents.map((a) => readlinkOr(join(a.home, 'current')));
  const before = links();
  // Nobody has 7.0.0: exit 2 with the code, and no host was touched.
  const r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', '7.0.0');
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const err = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(err.ok, false);
  assert.equal(err.error.code, 'SLIPWAY_ERR_AGENT_BUILD_NOT_FOUND');
  assert.match(err.error.message, /nothing was changed/);
  assert.deepEqual(links(), before);

  const beforeApps = await apps();
  const ls = loads();
  let local;
  let kept;
  try {
    // Packed here before: the same release (same sha256) sent again; the host has it already.
    local = await cli(repo.dir, 'agent', 'upgrade', 'staging', '--to', B, '--host', agents[0].address);
    // Gone from here: the hosts' own copies, sent nothing.
    rmSync(packed);
    rmSync(`${packed}.json`);
    kept = await cli(repo.dir, 'agent', 'upgrade', 'staging', '--to', `v${B}`, '--batch', '100%');
  } finally {
    await stopLoads(ls);
  }
  assert.equal(local.code, 0, local.stdout + local.stderr);
  assert.match(local.stderr, /packed before/);
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.match(kept.stderr, /kept on the hosts/);
  assert.doesNotMatch(kept.stderr, /uploading/);
  assert.match(kept.stdout, /every agent of staging runs 9\.9\.1/);
  for (const a of agents) assert.equal(await agentVersion(a), B);
  sameProcesses(beforeApps, await apps());
});

function readlinkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return 'installed';
  }
}
