// SIGKILL of the agent at each named step of its own upgrade, one round per
// step, placed exactly: the agent runs with SLIPWAY_TEST_PAUSE_FILE
// (agent/upgrade/test-pause.ts), the round writes the step's name there, the
// agent stops at that step and says its pid, and the round kills that pid.
// The steps (PAUSE_STEPS): upload (the build received, not stored), unpack
// (unpacked, not installed), install (copied half into builds/), switch (the
// marker written and previous moved, current not), restart (switched, before
// the exit), start (the new build starting, before it listens), reattach
// (re-attached, before it confirms), confirm (confirmed, before it records
// so: the next start records it), supervisor (the hand-over asked, its
// successor not yet there). After each kill the unit's restart (LocalAgent's
// supervised mode, through the launcher) must leave the host with a working
// agent on the old build (killed before the switch) or the new one (after),
// never half-switched, the app on its pid and serving under paced load, 0
// failed requests; then a plain upgrade still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, connect, newAgent, stopAgents, cleanup, cli, appHost, waitFor, type AppRepo } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import { bundleBuild } from '../helpers/agent-builds.js';
import { CLI_BIN, supervisorPid, type LocalAgent } from '../../scripts/local-fleet.js';
import { PAUSE_STEPS, type PauseStep } from '../../agent/upgrade/test-pause.js';

const DEADLINE_S = 15;
/** Killed at these steps, the host stays on the build it had; at the later ones it is on the new build. */
const BEFORE_THE_SWITCH: readonly PauseStep[] = ['upload', 'unpack', 'install', 'switch'];
let dir: string;
let pauseFile: string;
let agent: LocalAgent;
let repo: AppRepo;

before(async () => {
  dir = tempDir('agent-upgrade-kill');
  pauseFile = join(dir, 'pause-at');
  agent = await newAgent(dir, {
    dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, supervised: true,
    env: { SLIPWAY_UPGRADE_DEADLINE_S: String(DEADLINE_S), SLIPWAY_TEST_PAUSE_FILE: pauseFile },
  });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  await stopAgents([agent]);
  cleanup(dir);
});

function readlinkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return 'installed';
  }
}

/** What the agent reports once it has re-attached (the app running: a just-started agent answers before that). */
async function agentState(): Promise<{ version: string; pid: number; startedAt: string; supervisor: string } | undefined> {
  const conn = connect(agent);
  try {
    const s = await conn.status('hello');
    if (s.apps[0]?.state !== 'running') return undefined;
    return { version: s.agent?.version ?? '', pid: s.apps[0].pid, startedAt: s.apps[0].started_at, supervisor: '' };
  } finally {
    conn.close();
  }
}

function cmdline(pid: number | undefined): string {
  try {
    return pid ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') : '';
  } catch {
    return '';
  }
}

/** The pid the agent wrote on reaching the step (`<step> <pid>`). */
function reached(step: PauseStep): number | undefined {
  try {
    const [at, pid] = readFileSync(`${pauseFile}.reached`, 'utf8').trim().split(' ');
    return at === step && Number(pid) > 0 ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

test(`SIGKILL of the agent at each step of its upgrade (${PAUSE_STEPS.join(', ')}): a working agent on the old or the new build after each, the app untouched, 0 failed requests`, async () => {
  const first = await waitFor(agentState, 'the app running');
  const load = new Load({ host: appHost(agent), port: repo.port, keepAliveClients: 1, freshClients: 1, intervalMs: 25, maxDurationMs: 900_000 }).start();
  const seen: string[] = [];
  try {
    for (const [i, step] of PAUSE_STEPS.entries()) {
      const from = (await waitFor(agentState, 'the app running')).version;
      const previousBefore = readlinkOr(join(agent.home, 'previous'));
      // A new version each round: every round uploads, unpacks and installs.
      const target = `9.8.${i + 1}`;
      const build = bundleBuild(join(dir, 'builds'), target, target);
      rmSync(`${pauseFile}.reached`, { force: true });
      writeFileSync(pauseFile, `${step}\n`);
      const upgrade = new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [CLI_BIN, '--json', 'agent', 'upgrade', 'staging', '--to', build], { cwd: repo.dir, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code ?? -1));
      });
      const pid = await waitFor(() => reached(step), `round ${i}: the agent to reach the step ${step}`, 60_000);
      assert.ok(cmdline(pid).includes('slipway-agent'), `round ${i}: pid ${pid} is an agent (${cmdline(pid)})`);
      process.kill(pid, 'SIGKILL');
      const code = await upgrade;
      // Settled: no unconfirmed switch left, the agent answers with the app running, a supervising process of its build.
      const after = await waitFor(async () => {
        if (existsSync(join(agent.home, 'upgrade'))) return undefined;
        const s = await agentState();
        const sup = supervisorPid(agent.stateDir);
        if (!s || !sup) return undefined;
        const current = readlinkOr(join(agent.home, 'current'));
        // The supervising process runs from the build that runs (the installed one: not from builds/).
        const supBuild = /\/builds\/([^/]+)\//.exec(cmdline(sup))?.[1];
        if ((current === 'installed' ? undefined : current.slice('builds/'.length)) !== supBuild) return undefined;
        return { ...s, supervisor: cmdline(sup) };
      }, `round ${i}: the host to settle after a kill at ${step}`, (DEADLINE_S + 60) * 1000);
      seen.push(`${step}: killed pid ${pid}, cli exit ${code}, ${from} → ${after.version}`);
      console.log(`# ${seen[seen.length - 1]}`);
      const expected = BEFORE_THE_SWITCH.includes(step) ? from : target;
      assert.equal(after.version, expected, `round ${i} (${step}): runs ${after.version}, expected ${expected}`);
      const current = readlinkOr(join(agent.home, 'current'));
      assert.ok(current === 'installed' ? expected !== target : current.startsWith(`builds/${expected}-`), `round ${i}: current ${current} is what runs (${expected})`);
      if (expected === from) assert.equal(readlinkOr(join(agent.home, 'previous')), previousBefore, `round ${i}: previous as it was`);
      assert.equal(code, expected === from ? 1 : 0, `round ${i} (${step}): the CLI's exit`);
      assert.equal(after.pid, first.pid, `round ${i}: the app kept its pid`);
      assert.equal(after.startedAt, first.startedAt);
    }
  } finally {
    rmSync(pauseFile, { force: true });
    await load.stop();
  }
  const s = load.summary();
  console.log(`# ${s.requests} requests, ${s.failed} failed`);
  assert.equal(s.failed, 0, JSON.stringify(s.failures.slice(0, 3)));
  // And an upgrade without a kill still works afterwards, leaving no half-copied build behind.
  const last = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', bundleBuild(join(dir, 'builds'), 'last', '9.8.99'));
  assert.equal(last.code, 0, last.stdout + last.stderr);
  assert.equal((await waitFor(agentState, 'the app running')).version, '9.8.99');
  assert.deepEqual(readdirSync(join(agent.home, 'builds')).filter((n) => n.startsWith('.')), []);
});
