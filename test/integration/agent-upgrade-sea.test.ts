// Agent upgrades where the hosts run the single executable (scripts/build-sea.mjs)
// through the unit's launcher (LocalAgent's supervised mode, --installed the
// executable A): A → B with one release that carries both the bundle and the
// executable of B, each host keeping the one it runs (the executable: no node
// needed), under paced load to the real hello app: the apps keep their pids,
// 0 failed requests, the agents report B, and the agent and its supervising
// process run B's executable; then a broken executable (it fails its --check)
// is switched back by the host itself. The executables are built once for the
// file (A, B stamped 9.9.1, the broken one: about a minute in all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, newAgent, stopAgents, cleanup, cli, waitFor, type AppRepo } from '../helpers/env.js';
import { deployFirstRelease, fleetChecks } from '../helpers/upgrade-fleet.js';
import { brokenSeaBuild, bundleBuild, seaBuild } from '../helpers/agent-builds.js';
import { supervisorPid, type LocalAgent } from '../../scripts/local-fleet.js';
import { SLIPWAY_VERSION } from '../../common/package-info.js';

const DEADLINE_S = 15;
const B = '9.9.1';
let dir: string;
let exeA: string;
let exeB: string;
let broken: string;
let agents: LocalAgent[] = [];
let repo: AppRepo;
const { apps, agentVersion, loads, stopLoads, sameProcesses } = fleetChecks(() => ({ agents, repo }));
const exeBefore = process.env.SLIPWAY_AGENT_EXE;

before(async () => {
  dir = tempDir('agent-upgrade-sea');
  exeA = seaBuild(dir, 'a');
  exeB = seaBuild(dir, 'b', B);
  broken = brokenSeaBuild(dir, 'broken', 'if (process.argv.includes("--version")) { console.log("9.9.7"); process.exit(0); }\nconsole.error("broken build: exiting");\nprocess.exit(1);\n');
  process.env.SLIPWAY_AGENT_EXE = exeA;
  const octet = 10 + Math.floor(Math.random() * 200);
  agents = await Promise.all([1, 2].map((i) => newAgent(dir, {
    dir: join(dir, `agent${i}`), name: `agent${i}`, appBind: `127.0.${octet}.${i + 1}`, supervised: true,
    // No node for a bundle on these hosts: what they run is the executable.
    env: { SLIPWAY_UPGRADE_DEADLINE_S: String(DEADLINE_S), SLIPWAY_NODE: join(dir, 'no-node-here') },
  })));
  repo = await deployFirstRelease(dir, agents);
});

after(async () => {
  if (exeBefore === undefined) delete process.env.SLIPWAY_AGENT_EXE; else process.env.SLIPWAY_AGENT_EXE = exeBefore;
  await stopAgents(agents);
  cleanup(dir);
});

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

interface UpgradeJson { ok: boolean; version?: string; kind?: string; hosts: { host: string; outcome: string; from: string; to: string; message: string }[] }

test(`hosts on the single executable: one release of ${B} with the bundle and the executable, each host keeps the executable; apps keep their pids, 0 failed requests, agents report ${B}`, async () => {
  for (const a of agents) assert.equal(exeOf(a.child?.pid as number), exeA, 'the agent runs executable A');
  const beforeApps = await apps();
  const supervisors = agents.map((a) => supervisorPid(a.stateDir));
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', bundleBuild(join(dir, 'bundles'), 'b', B), '--to', exeB);
    for (const [i, a] of agents.entries()) {
      await waitFor(() => {
        const pid = supervisorPid(a.stateDir);
        return pid && pid !== supervisors[i] && exeOf(pid).includes(`/builds/${B}-`) && a.logged('the new supervising process adopted the running apps').length > 0;
      }, `${a.opts.name}: a supervising process of ${B}'s executable`, 60_000);
    }
    await waitFor(async () => (await apps()).every((s) => s.state === 'running'), 'the apps reported running by the new supervising processes');
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as UpgradeJson;
  assert.equal(out.version, B);
  assert.equal(out.kind, 'bundle+executable');
  for (const h of out.hosts) {
    assert.equal(h.outcome, 'upgraded', JSON.stringify(h));
    assert.equal(h.from, SLIPWAY_VERSION);
    assert.equal(h.to, B);
  }
  sameProcesses(beforeApps, await apps());
  for (const a of agents) {
    assert.equal(await agentVersion(a), B);
    const current = readlinkSync(join(a.home, 'current'));
    assert.match(current, new RegExp(`^builds/${B.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    const bin = join(a.home, current, 'bin');
    assert.ok(existsSync(join(bin, 'slipway-agent')), 'the executable was kept');
    assert.ok(!existsSync(join(bin, 'slipway-agent.mjs')), `the bundle was left out (${readdirSync(bin).join(', ')})`);
    assert.equal(exeOf(a.child?.pid as number), join(bin, 'slipway-agent'), 'the agent runs executable B');
    assert.equal(exeOf(supervisorPid(a.stateDir) as number), join(bin, 'slipway-agent'), 'so does its supervising process');
    assert.equal(readlinkSync(join(a.home, 'previous')), 'installed');
    assert.ok(!existsSync(join(a.home, 'upgrade')), 'confirmed: no marker left');
  }
});

test('a broken executable (it fails its --check) is switched back by the host itself; the app serves throughout', async () => {
  const a = agents[0];
  const beforeApps = await apps();
  const ls = loads();
  let r;
  try {
    r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', broken, '--host', a.address);
  } finally {
    await stopLoads(ls);
  }
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as UpgradeJson;
  assert.equal(out.kind, 'executable');
  const h = out.hosts[0];
  assert.equal(h.outcome, 'rolled_back', JSON.stringify(h));
  assert.match(h.message, /--check failed/);
  assert.equal(h.to, B);
  assert.equal(await agentVersion(a), B);
  assert.match(readlinkSync(join(a.home, 'current')), /^builds\/9\.9\.1-/);
  assert.ok(a.logged('switched back from builds/9.9.7-').length > 0);
  sameProcesses(beforeApps, await apps());
});

test('a release with the bundle alone is refused by a host that runs the executable and has no node; nothing changes', async () => {
  const a = agents[1];
  const r = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', bundleBuild(join(dir, 'bundles'), 'c', '9.9.8'), '--host', a.address);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const h = (JSON.parse(r.stdout) as UpgradeJson & { hosts: { error?: { code: string } }[] }).hosts[0];
  assert.equal(h.outcome, 'failed', JSON.stringify(h));
  assert.match(h.message, /no node to run a bundle/);
  assert.equal(await agentVersion(a), B);
  assert.match(readlinkSync(join(a.home, 'current')), /^builds\/9\.9\.1-/);
});
