// SIGKILL of the agent at random points of its own upgrade (while the build
// is sent, unpacked, switched, while it restarts into the new build and
// re-attaches, before it confirms): after each, the unit's restart (LocalAgent's
// supervised mode, through the launcher) leaves the host with a working agent
// on one of the two builds, nothing half-switched, the app on its pid and
// serving throughout. Like the app-deploy fault tests: a seeded loop, the seed
// printed so a failing round can be run again (SLIPWAY_KILL_SEED).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tempDir, makeAppRepo, connect, newAgent, stopAgents, cleanup, cli, appHost, waitFor, type AppRepo } from '../helpers/env.js';
import { Load } from '../helpers/load.js';
import { AGENT_BIN, CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';
import { SLIPWAY_VERSION } from '../../common/package-info.js';
import { rng } from '../helpers/chaos/plan.js';

const DEADLINE_S = 15;
const ROUNDS = Number(process.env.SLIPWAY_KILL_ROUNDS ?? 6);
const SEED = Number(process.env.SLIPWAY_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
let dir: string;
let agent: LocalAgent;
let repo: AppRepo;

function readlinkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return 'installed';
  }
}

function makeBuild(name: string, version: string): string {
  const out = join(dir, 'builds', name);
  mkdirSync(out, { recursive: true });
  for (const f of ['slipway-agent.mjs', 'supervisor.mjs', 'unpack-worker.mjs', 'hash-worker.mjs', 'host-facts-worker.mjs', 'slipway.json', 'health.json', 'slipway.proto']) {
    if (existsSync(join(dirname(AGENT_BIN), f))) copyFileSync(join(dirname(AGENT_BIN), f), join(out, f));
  }
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: 'slipway', version })}\n`);
  return join(out, 'slipway-agent.mjs');
}

before(async () => {
  dir = tempDir('agent-upgrade-kill');
  agent = await newAgent(dir, {
    dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, supervised: true,
    env: { SLIPWAY_UPGRADE_DEADLINE_S: String(DEADLINE_S) },
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

/** What the agent reports once it has re-attached (the app running: a just-started agent answers before that). */
async function agentState(): Promise<{ version: string; pid: number; startedAt: string } | undefined> {
  const conn = connect(agent);
  try {
    const s = await conn.status('hello');
    if (s.apps[0]?.state !== 'running') return undefined;
    return { version: s.agent?.version ?? '', pid: s.apps[0].pid, startedAt: s.apps[0].started_at };
  } finally {
    conn.close();
  }
}

test(`SIGKILL of the agent at a random point of its upgrade, ${ROUNDS} rounds: a working agent on one of the two builds after each, the app untouched`, async () => {
  console.log(`# seed ${SEED} (SLIPWAY_KILL_SEED=${SEED} repeats it)`);
  const rand = rng(SEED);
  const builds = [{ version: '9.8.1', file: makeBuild('x', '9.8.1') }, { version: '9.8.2', file: makeBuild('y', '9.8.2') }];
  const first = await waitFor(agentState, 'the app running');
  const load = new Load({ host: appHost(agent), port: repo.port, keepAliveClients: 1, freshClients: 1, intervalMs: 25, maxDurationMs: 600_000 }).start();
  const seen: string[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const from = (await waitFor(agentState, 'the app running')).version;
      const target = builds.find((b) => b.version !== from) as { version: string; file: string };
      // From the CLI's start: ~1 s to connect and send, the switch ~1.5-2.5 s in, the new build's start and confirmation after.
      const delay = 300 + Math.floor(rand() * 3500);
      const upgrade = new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [CLI_BIN, '--json', 'agent', 'upgrade', 'staging', '--to', target.file], { cwd: repo.dir, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code ?? -1));
      });
      await new Promise((r) => setTimeout(r, delay));
      // Between an exit and the next start there is no agent to kill: the kill then hits the new start (--check, start, re-attach).
      let killed: number | undefined;
      const until = Date.now() + 10_000;
      while ((killed = agent.kill('SIGKILL')) === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      const phase = existsSync(join(agent.home, 'upgrade')) ? 'switched, unconfirmed' : readlinkOr(join(agent.home, 'current')).includes(target.version) ? 'confirmed' : 'before the switch';
      const code = await upgrade;
      // Settled: no unconfirmed switch left (confirmed, or switched back), and the agent answers.
      const after = await waitFor(async () => {
        if (existsSync(join(agent.home, 'upgrade'))) return undefined;
        return agentState();
      }, `round ${round}: the host to settle after a kill ${delay} ms into the upgrade`, (DEADLINE_S + 60) * 1000);
      seen.push(`round ${round}: kill at ${delay} ms (pid ${killed ?? 'none'}; ${phase}), cli exit ${code}, ${from} → ${after.version}`);
      console.log(`# ${seen[seen.length - 1]}`);
      assert.ok([from, target.version].includes(after.version), `round ${round}: runs ${after.version}, not ${from} or ${target.version}`);
      const current = existsSync(join(agent.home, 'current')) || existsSync(join(agent.home, 'previous')) ? readlinkOr(join(agent.home, 'current')) : 'installed';
      assert.ok(current === 'installed' || current.startsWith(`builds/${after.version}-`), `round ${round}: current ${current} is what runs (${after.version})`);
      assert.equal(after.pid, first.pid, `round ${round}: the app kept its pid`);
      assert.equal(after.startedAt, first.startedAt);
    }
  } finally {
    await load.stop();
  }
  const s = load.summary();
  console.log(`# ${s.requests} requests, ${s.failed} failed`);
  assert.equal(s.failed, 0, JSON.stringify(s.failures.slice(0, 3)));
  // And an upgrade without a kill still works afterwards.
  const now = (await waitFor(agentState, 'the app running')).version;
  const next = builds.find((b) => b.version !== now) as { version: string; file: string };
  const last = await cli(repo.dir, '--json', 'agent', 'upgrade', 'staging', '--to', next.file);
  assert.equal(last.code, 0, last.stdout + last.stderr);
  assert.equal((await waitFor(agentState, 'the app running')).version, next.version);
  assert.ok(SLIPWAY_VERSION);
});
