// The agent as one self-contained executable (scripts/build-sea.mjs), for
// one CPU (test/integration/sea.test.ts: this machine's; sea-arm64.test.ts:
// arm64 under qemu-user): built here from the bundle, it starts with no node
// on PATH, passes --check, and runs the core path of a real deploy: a hot
// swap under load (the unpack and hash worker threads run inside the
// executable, the supervising process and its holder are the executable
// itself), an agent SIGKILL and restart that finds the app running with the
// same pid, and a rollback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, newAgent, stopAgents, cleanup, cli, get, waitFor, appHost, ROOT, type AppRepo } from './env.js';
import { Load } from './load.js';
import { supervisorPid, holderPid, type LocalAgent } from '../../scripts/local-fleet.js';

export interface SeaSuite {
  /** The CPU to build for (scripts/build-sea.mjs --arch). */
  arch: 'x64' | 'arm64';
  /** How long an agent may take to start: an emulated CPU is ~10x slower. */
  startTimeoutMs: number;
}

export function seaSuite({ arch, startTimeoutMs }: SeaSuite): void {
  let dir: string;
  let exe: string;
  let agent: LocalAgent;
  let repo: AppRepo;
  let host: string;
  const before_ = process.env.SLIPWAY_AGENT_EXE;

  before(async () => {
    dir = tempDir(`sea-${arch}`);
    exe = join(dir, 'slipway-agent');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs'), '--arch', arch, '--out', exe], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    process.env.SLIPWAY_AGENT_EXE = exe;
    agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2` });
    await agent.start(startTimeoutMs);
    repo = await makeAppRepo(dir, [agent.address]);
    host = appHost(agent);
    repo.release('1.0.0', { 'message.txt': 'one\n' });
    repo.release('1.1.0', { 'message.txt': 'two\n' });
    for (const v of ['1.0.0', '1.1.0']) {
      const b = await cli(repo.dir, 'build', v);
      assert.equal(b.code, 0, b.stderr);
    }
  });

  after(async () => {
    if (before_ === undefined) delete process.env.SLIPWAY_AGENT_EXE; else process.env.SLIPWAY_AGENT_EXE = before_;
    if (agent) await stopAgents([agent]);
    cleanup(dir);
  });

  const served = async () => JSON.parse((await get(host, repo.port)).body) as { version: string; pid: number };
  /** Whether pid runs the executable: natively (/proc/PID/exe), or through an emulator that binfmt_misc started for it (its command line). */
  const runsExe = (pid: number) => readlinkSync(`/proc/${pid}/exe`) === exe
    || readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 2).includes(exe);

  test('the executable needs no node on PATH: --version, --check of a good and a bad config', () => {
    // QEMU_LD_PREFIX: where an emulated CPU's C library is (sea-arm64.test.ts), not a node.
    const env = { PATH: '/nonexistent', HOME: dir, ...(process.env.QEMU_LD_PREFIX ? { QEMU_LD_PREFIX: process.env.QEMU_LD_PREFIX } : {}) };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = spawnSync(exe, ['--version'], { env, encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), pkg.version);
    assert.equal(v.stderr, '', 'no warning on start');
    const good = spawnSync(exe, ['--config', agent.configFile, '--check'], { env, encoding: 'utf8', cwd: agent.opts.dir });
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /valid/);
    const badFile = join(dir, 'bad.yaml');
    writeFileSync(badFile, 'listen: 127.0.0.1:7070\nkeep_releases: lots\n');
    const bad = spawnSync(exe, ['--config', badFile, '--check'], { env, encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /keep_releases/);
  });

  test('deploy, then a hot swap under load: no request fails; supervising process and holder are the executable', async () => {
    const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal((await served()).version, '1.0.0');
    assert.ok(runsExe(agent.child!.pid!), 'the agent is the executable');
    const sup = await waitFor(() => supervisorPid(agent.stateDir), 'the supervising process');
    const hold = await waitFor(() => holderPid(agent.stateDir), 'the holder');
    assert.ok(runsExe(sup), 'the supervising process is the executable');
    assert.ok(runsExe(hold), 'the holder is the executable');

    const load = new Load({ host, port: repo.port, keepAliveClients: 2, freshClients: 2, intervalMs: 20, maxDurationMs: 120_000 });
    load.start();
    const s = await cli(repo.dir, 'deploy', 'staging', '1.1.0');
    const summary = await load.stop();
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.equal((await served()).version, '1.1.0');
    assert.ok(summary.ok > 0, 'the load reached the app');
    assert.equal(summary.failed, 0, `failed requests: ${JSON.stringify(summary)}`);
  });

  test('agent SIGKILL and restart: the app keeps its pid; then a rollback swaps back', async () => {
    const { pid } = await served();
    await agent.stop('SIGKILL');
    assert.equal((await served()).pid, pid, 'the app served on while the agent was down');
    await agent.start(startTimeoutMs);
    const i = agent.httpAddress.lastIndexOf(':');
    const st = await waitFor(async () => {
      const r = await get(agent.httpAddress.slice(0, i), Number(agent.httpAddress.slice(i + 1)), '/status');
      const apps = (JSON.parse(r.body) as { apps: { app: string; state: string; version: string; pid: number }[] }).apps;
      return apps.find((a) => a.app === 'hello' && a.state === 'running');
    }, 'hello running after the restart');
    assert.equal(st.pid, pid);
    assert.equal(st.version, '1.1.0');
    // systeminformation, bundled into the executable, read what the host is (once, after the start).
    const facts = await waitFor(async () => {
      const r = await get(agent.httpAddress.slice(0, i), Number(agent.httpAddress.slice(i + 1)), '/status');
      return (JSON.parse(r.body) as { host_facts: { os: { kernel: string }; cpu: { brand: string }; memory_total: number; filesystems: unknown[] } | null }).host_facts;
    }, 'host_facts in /status');
    assert.ok(facts.os.kernel.length > 0 && facts.cpu.brand.length > 0 && facts.memory_total > 0 && facts.filesystems.length > 0, JSON.stringify(facts));
    const r = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await served()).version, '1.0.0');
  });
}
