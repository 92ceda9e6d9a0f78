// Longer than ~300 lines on purpose: one benchmark, the same crash loop under slipway, a bare respawn loop and PM2, measured and reported side by side.
// The watchdog benchmark: how fast a crashed app serves again, and what the
// supervision costs in memory, beside a bare respawn loop (the floor) and
// PM2 with its default settings.
//
//   npm run bench -- watchdog [--runs N (20)] [--apps N (10)] [--no-pm2] [--json]
//
// Three set-ups run side by side, each with examples/hello on its own port:
//   bare     a ~20-line Node parent (BARE_LOOP below) that binds the socket the
//            way the agent does (bound once, never accepted on), passes it to
//            hello as fd 3 (LISTEN_FDS) and respawns hello when it exits
//   slipway  one local agent (scripts/local-fleet.ts) with hello deployed by
//            the real CLI, run.restart.max_restarts raised (RESTART below) so
//            the crash-loop guard never stops the restarts
//   PM2      `pm2 start` (fork mode, PM2's defaults) of the same hello,
//            private PM2_HOME, daemon killed at the end
// Crashes: kill -9 of the app's pid once it has been up for over 1.5 s; from
// the kill, a client opens a new connection per request every POLL_MS and
// records the first 200 from a new pid. The crashes rotate over the three
// set-ups so that the machine's load drifts equally over all of them.
// Memory: PSS and RSS (/proc/<pid>/smaps_rollup) of the agent, the
// supervising process, its holder and the apps with 1 and with N apps (N app names
// deployed to the one agent), beside PM2's daemon and its app processes.
// Everything runs without NODE_EXTRA_CA_CERTS (set on the machine these
// figures come from; it adds ~90 ms to every Node start and memory to every
// process), with the base environment the agent gives its apps.
// A benchmark, not a test: exits 0 when it measured, whatever the figures.
// Longer than ~300 lines on purpose: one benchmark: its method, the three set-ups (slipway, bare loop, PM2) and its report kept together.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { LocalAgent, killAppsUnder, supervisorPid, holderPid } from '../scripts/local-fleet.js';
import { median, percentile } from '../test/helpers/load.js';
import {
  HELLO, sleep, until, getJson, freePort, withCleanup, machine, appBaseEnv, helloRepo, slipway, processMemory, sumMemory, mib, pm2,
  pass, printColumns, type Cleanup, type Machine, type Memory, type Result,
} from './common.js';

export interface WatchdogBenchOptions {
  /** Crashes per set-up. Default 20. */
  runs?: number;
  /** Apps of the second memory figure. Default 10. */
  apps?: number;
  /** Skip PM2. */
  noPm2?: boolean;
  /** Print no human report (the caller prints the JSON). */
  json?: boolean;
}

/** run.restart of the deployed releases: the design's defaults but max_restarts. */
const RESTART = '{ max_restarts: 1000, window_s: 60 }';
const POLL_MS = 3;
/** Up this long (since its first answer) before an app is killed: a crash after more than 1 s up restarts at once. */
const UP_MS = 1500;
/** The target: crash → serving within this many ms of the bare loop. */
const MARGIN_MS = 30;

/**
 * The floor: bind like the agent (Node's internal bind-only handle, so this
 * process never accepts; hello's listen({fd: 3}) puts the socket into the
 * listening state, which stays on the shared socket), pass it as fd 3 with
 * LISTEN_FDS, respawn on exit. LISTEN_PID must be hello's own pid: set by
 * the shell before it execs node, as the agent does.
 */
const BARE_LOOP = `'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');
const [port, dir] = process.argv.slice(2);
const h = net._createServerHandle('127.0.0.1', Number(port), 4, undefined, 0);
if (typeof h === 'number') throw new Error('cannot bind 127.0.0.1:' + port + ': ' + h);
const env = { ...process.env, LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' };
function start() {
  const c = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', process.execPath, 'server.js'],
    { cwd: dir, env, stdio: ['ignore', 'ignore', 'ignore', h.fd] });
  c.on('exit', start);
}
start();
`;

interface CrashFigures { ms: number[]; median_ms: number; p95_ms: number; min_ms: number; max_ms: number; failed_polls: number[] }

interface SideMemory { supervision: Memory; supervision_parts: Record<string, Memory>; apps: Memory; apps_count: number; total: Memory }

export interface WatchdogBenchResult {
  schema: 1;
  bench: 'watchdog';
  date: string;
  machine: Machine;
  settings: {
    crashes: number; apps: number; poll_ms: number; up_before_kill_ms: number;
    slipway_restart: string; pm2: string; bare_loop: string; env: string;
  };
  crash: {
    bare: CrashFigures;
    slipway: CrashFigures & { kill_to_decision_ms: number[]; kill_to_decision_median_ms: number };
    pm2?: CrashFigures & { version: string };
  };
  memory: {
    bare_loop_parent: Memory;
    /** The agent's own view (its /metrics, prom-client's process figures), MiB, after the memory readings. */
    agent_heap_mib: { one: Record<string, number>; many: Record<string, number> };
    slipway: { one: SideMemory; many: SideMemory };
    pm2?: { one: SideMemory; many: SideMemory };
  };
  targets: { figure: string; value: string; target: string; result: Result }[];
}

const log = (s: string) => process.stderr.write(`watchdog | ${s}\n`);
const r1 = (x: number) => Math.round(x * 10) / 10;

function figures(ms: number[], failed: number[]): CrashFigures {
  return { ms: ms.map(r1), median_ms: r1(median(ms)), p95_ms: r1(percentile(ms, 95)), min_ms: r1(Math.min(...ms)), max_ms: r1(Math.max(...ms)), failed_polls: failed };
}

/**
 * From now on, a new connection per request every POLL_MS, each GET /version;
 * resolves with the end of the first 200 from a pid other than oldPid, and
 * how many polls failed before it (refused, reset).
 */
function firstServed(port: number, oldPid: number, timeoutMs = 30_000): Promise<{ at: number; pid: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const pending = new Set<http.ClientRequest>();
    let failed = 0;
    let done = false;
    const finish = (err: Error | undefined, v?: { at: number; pid: number; failed: number }) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
      for (const r of pending) r.destroy();
      if (err) reject(err); else resolve(v!);
    };
    const poll = () => {
      const req = http.get({ host: '127.0.0.1', port, path: '/version', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => {
          const at = performance.now();
          pending.delete(req);
          let pid = 0;
          try { pid = (JSON.parse(body) as { pid: number }).pid; } catch { /* not JSON */ }
          if (res.statusCode === 200 && pid && pid !== oldPid) finish(undefined, { at, pid, failed });
          else if (!done) failed++;
        });
        res.on('error', () => undefined);
      });
      pending.add(req);
      req.on('error', () => { pending.delete(req); if (!done) failed++; });
    };
    const timer = setInterval(poll, POLL_MS);
    const deadline = setTimeout(() => finish(new Error(`no answer on port ${port} within ${timeoutMs} ms of the crash`)), timeoutMs);
    poll();
  });
}

interface Side {
  name: 'bare' | 'slipway' | 'pm2';
  port: number;
  /** performance.now() of the last first-answer (or of the set-up). */
  upSince: number;
  ms: number[];
  failed: number[];
  afterKill?: (killWall: number) => void;
}

/** One crash of a side: waits until its app has been up UP_MS, kills it, times the first answer of the new process. */
async function crash(side: Side): Promise<number> {
  const wait = side.upSince + UP_MS - performance.now();
  if (wait > 0) await sleep(wait);
  const before = await getJson('127.0.0.1', side.port);
  const killWall = Date.now();
  const t0 = performance.now();
  process.kill(before.pid, 'SIGKILL');
  const r = await firstServed(side.port, before.pid);
  const ms = r.at - t0;
  side.upSince = r.at;
  side.ms.push(ms);
  side.failed.push(r.failed);
  side.afterKill?.(killWall);
  return ms;
}

/** Starts the bare loop in its own process group with hello copied to dir. */
async function startBare(work: string, env: Record<string, string>, cleanup: Cleanup): Promise<{ port: number; child: ChildProcess }> {
  const dir = join(work, 'hello-bare');
  cpSync(HELLO, dir, { recursive: true });
  const script = join(work, 'bare-loop.cjs');
  writeFileSync(script, BARE_LOOP);
  const port = await freePort();
  const child = spawn(process.execPath, [script, String(port), dir], { env: { ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  cleanup.add(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
  await until(async () => (await getJson('127.0.0.1', port)).pid > 0, 'hello under the bare loop to answer', 20_000);
  return { port, child };
}

/** The median of MEM_SAMPLES readings, 1 s apart, of each process: a Node heap between two GCs varies by several MiB. */
const MEM_SAMPLES = 5;
async function memorySamples(pids: number[]): Promise<Map<number, Memory>> {
  const samples = new Map<number, Memory[]>(pids.map((p) => [p, []]));
  for (let i = 0; i < MEM_SAMPLES; i++) {
    if (i) await sleep(1000);
    for (const p of pids) samples.get(p)!.push(processMemory(p));
  }
  return new Map([...samples].map(([p, ms]) => [p, { pss_kib: median(ms.map((m) => m.pss_kib)), rss_kib: median(ms.map((m) => m.rss_kib)) }]));
}

function memoryOf(mem: Map<number, Memory>, parts: Record<string, number>, appPids: number[]): SideMemory {
  const supervision_parts: Record<string, Memory> = {};
  for (const [k, pid] of Object.entries(parts)) supervision_parts[k] = mem.get(pid)!;
  const supervision = sumMemory(Object.values(supervision_parts));
  const apps = sumMemory(appPids.map((p) => mem.get(p)!));
  return { supervision, supervision_parts, apps, apps_count: appPids.length, total: sumMemory([supervision, apps]) };
}

/** The agent's heap figures from its /metrics (prom-client's default metrics), in MiB. */
async function agentHeapFigures(httpAddress: string): Promise<Record<string, number>> {
  const i = httpAddress.lastIndexOf(':');
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ host: httpAddress.slice(0, i), port: Number(httpAddress.slice(i + 1)), path: '/metrics', agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { b += d; });
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  const out: Record<string, number> = {};
  for (const name of ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'process_resident_memory_bytes']) {
    const v = new RegExp(`^${name} (\\S+)`, 'm').exec(body)?.[1];
    if (v !== undefined) out[name.replace(/_bytes$/, '')] = Math.round(Number(v) / 2 ** 20 * 10) / 10;
  }
  return out;
}

export async function runWatchdogBench(opts: WatchdogBenchOptions = {}): Promise<WatchdogBenchResult> {
  const runs = opts.runs ?? 20;
  const nApps = opts.apps ?? 10;
  const savedCa = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS; // the agent, its supervisor and the CLI inherit the bench's environment
  const work = mkdtempSync(join(tmpdir(), 'slipway-bench-watchdog-'));
  try {
    return await withCleanup(log, async (cleanup) => {
      cleanup.add(() => rmSync(work, { recursive: true, force: true }));
      const env = await appBaseEnv();

      // bare loop
      const bare = await startBare(work, env, cleanup);
      log(`bare loop (pid ${bare.child.pid}): hello on 127.0.0.1:${bare.port}`);

      // slipway
      const agent = new LocalAgent({ dir: join(work, 'agent'), name: 'bench-watchdog', appBind: '127.0.0.1' });
      cleanup.add(async () => { await agent.stop('SIGKILL'); killAppsUnder(agent.stateDir); });
      await agent.start();
      const slipPorts: number[] = [];
      const deploy = async (i: number) => {
        const port = await freePort();
        const dir = await helloRepo(join(work, `app${i}`), { app: `hello${i}`, port, hosts: [agent.address], restart: RESTART });
        const d = await slipway(dir, 'deploy', 'bench', '1.0.0');
        if (d.code !== 0) throw new Error(`slipway deploy of hello${i} failed:\n${d.out}`);
        await until(async () => (await getJson('127.0.0.1', port)).pid > 0, `hello${i} to answer`);
        slipPorts.push(port);
      };
      await deploy(0);
      log(`slipway: agent ${agent.address} (pid ${agent.child!.pid}), supervisor pid ${supervisorPid(agent.stateDir)}, hello0 on 127.0.0.1:${slipPorts[0]}, run.restart ${RESTART}`);

      // PM2
      let p2: ReturnType<typeof pm2> | undefined;
      let pm2Version = '';
      const pm2Ports: number[] = [];
      const pm2Start = async (from: number, to: number) => {
        const apps = [];
        for (let i = from; i < to; i++) {
          const dir = join(work, `pm2-hello${i}`);
          cpSync(HELLO, dir, { recursive: true });
          const port = await freePort();
          pm2Ports.push(port);
          apps.push({ name: `hello${i}`, script: join(dir, 'server.js'), cwd: dir, env: { PORT: String(port), NODE_ENV: 'production' } });
        }
        const eco = join(work, `pm2-apps-${from}.json`);
        writeFileSync(eco, JSON.stringify({ apps }));
        const st = await p2!.cmd('start', eco);
        if (st.code !== 0) throw new Error(`pm2 start failed:\n${st.out}`);
        for (const port of pm2Ports.slice(from)) await until(async () => (await getJson('127.0.0.1', port)).pid > 0, `PM2's hello on ${port} to answer`);
      };
      const pm2AppPids = async () => Promise.all(pm2Ports.map(async (port) => (await getJson('127.0.0.1', port)).pid));
      if (!opts.noPm2) {
        p2 = pm2(join(work, 'pm2-home'), env);
        const p = p2;
        cleanup.add(async () => { await p.kill(await pm2AppPids().catch(() => [])); });
        pm2Version = (await p.cmd('--version')).out.trim().split('\n').at(-1) ?? '?';
        await pm2Start(0, 1);
        log(`PM2 ${pm2Version}: daemon pid ${p.daemonPid()}, hello0 on 127.0.0.1:${pm2Ports[0]} (fork mode, defaults)`);
      }

      let bareParent: Memory = { pss_kib: NaN, rss_kib: NaN };
      let agentHeap: Record<string, number> = {};
      const slipAppPids = async () => Promise.all(slipPorts.map(async (port) => (await getJson('127.0.0.1', port)).pid));
      const measureMemory = async () => {
        await sleep(5000); // starts settle (GC, lazy init)
        const sParts = { agent: agent.child!.pid!, supervisor: supervisorPid(agent.stateDir)!, holder: holderPid(agent.stateDir)! };
        const sApps = await slipAppPids();
        const pParts: Record<string, number> = p2 ? { daemon: p2.daemonPid()! } : {};
        const pApps = p2 ? await pm2AppPids() : [];
        const mem = await memorySamples([...Object.values(sParts), ...sApps, ...Object.values(pParts), ...pApps, bare.child.pid!]);
        const s = memoryOf(mem, sParts, sApps);
        const p = p2 ? memoryOf(mem, pParts, pApps) : undefined;
        bareParent = mem.get(bare.child.pid!)!;
        agentHeap = await agentHeapFigures(agent.httpAddress);
        log(`memory, ${s.apps_count} app(s): slipway agent+supervisor ${mib(s.supervision.pss_kib)} MiB PSS, apps ${mib(s.apps.pss_kib)}` +
          (p ? `; PM2 daemon ${mib(p.supervision.pss_kib)} MiB PSS, apps ${mib(p.apps.pss_kib)}` : ''));
        return { s, p };
      };
      const mem1 = await measureMemory();
      const heap1 = agentHeap;

      // crashes, rotating over the set-ups
      const now = performance.now();
      const decisions: number[] = [];
      const slipSide: Side = {
        name: 'slipway', port: slipPorts[0]!, upSince: now, ms: [], failed: [],
        // The agent's log line of its restart decision: when it learnt of the exit.
        afterKill: (killWall) => {
          const line = agent.logLines.slice(-50).map((l) => { try { return JSON.parse(l) as { time?: string; msg?: string }; } catch { return {}; } })
            .find((l) => l.msg?.includes('restarting at once') && l.time && Date.parse(l.time) >= killWall);
          if (line?.time) decisions.push(Date.parse(line.time) - killWall);
        },
      };
      const sides: Side[] = [
        { name: 'bare', port: bare.port, upSince: now, ms: [], failed: [] },
        slipSide,
        ...(p2 ? [{ name: 'pm2' as const, port: pm2Ports[0]!, upSince: now, ms: [], failed: [] }] : []),
      ];
      for (let i = 0; i < runs; i++) {
        const got: string[] = [];
        for (const side of sides) got.push(`${side.name} ${(await crash(side)).toFixed(0)} ms`);
        log(`crash ${i + 1}/${runs}: ${got.join(', ')}`);
      }

      // N apps
      for (let i = 1; i < nApps; i++) await deploy(i);
      if (p2) await pm2Start(1, nApps);
      log(`${nApps} apps on each side`);
      const memN = await measureMemory();

      const [bs, ss, ps] = sides as [Side, Side, Side | undefined];
      const crashBare = figures(bs.ms, bs.failed);
      const crashSlip = { ...figures(ss.ms, ss.failed), kill_to_decision_ms: decisions, kill_to_decision_median_ms: decisions.length ? median(decisions) : NaN };
      const crashPm2 = ps ? { ...figures(ps.ms, ps.failed), version: pm2Version } : undefined;
      const targets: WatchdogBenchResult['targets'] = [
        {
          figure: 'crash → serving, median', value: `${crashSlip.median_ms} ms`,
          target: `≤ bare loop ${crashBare.median_ms} + ${MARGIN_MS} ms`, result: pass(crashSlip.median_ms <= crashBare.median_ms + MARGIN_MS),
        },
        {
          figure: 'crash → serving, p95', value: `${crashSlip.p95_ms} ms`,
          target: `≤ bare loop p95 ${crashBare.p95_ms} + ${MARGIN_MS} ms`, result: pass(crashSlip.p95_ms <= crashBare.p95_ms + MARGIN_MS),
        },
      ];
      if (memN.p) {
        targets.push({
          figure: `memory, ${nApps} apps: agent + supervisor + apps (PSS)`, value: `${mib(memN.s.total.pss_kib)} MiB`,
          target: `< PM2 daemon + apps ${mib(memN.p.total.pss_kib)} MiB`, result: pass(memN.s.total.pss_kib < memN.p.total.pss_kib),
        });
        targets.push({
          figure: `memory, ${nApps} apps: the same in RSS`, value: `${mib(memN.s.total.rss_kib)} MiB`,
          target: `< PM2 ${mib(memN.p.total.rss_kib)} MiB`, result: pass(memN.s.total.rss_kib < memN.p.total.rss_kib),
        });
      }
      const result: WatchdogBenchResult = {
        schema: 1, bench: 'watchdog', date: new Date().toISOString(), machine: machine(),
        settings: {
          crashes: runs, apps: nApps, poll_ms: POLL_MS, up_before_kill_ms: UP_MS,
          slipway_restart: `run.restart: ${RESTART} (backoff_initial_ms 100, backoff_max_ms 15000, reset_after_s 30, min_healthy_s 60: defaults); a crash after > 1 s up restarts at once`,
          pm2: p2 ? `PM2 ${pm2Version}, pm2 start (fork mode), defaults: autorestart, restart_delay 0, min_uptime 1 s, max_restarts 16` : 'not run',
          bare_loop: 'bench/watchdog.ts BARE_LOOP: bind-only socket passed as fd 3, /bin/sh exec like the agent, respawn on exit',
          env: `agent, PM2 and bare loop without NODE_EXTRA_CA_CERTS${savedCa ? ' (set in this shell)' : ''}; apps get the agent's base environment + NODE_ENV=production`,
        },
        crash: { bare: crashBare, slipway: crashSlip, pm2: crashPm2 },
        memory: {
          bare_loop_parent: bareParent,
          agent_heap_mib: { one: heap1, many: agentHeap },
          slipway: { one: mem1.s, many: memN.s },
          pm2: mem1.p && memN.p ? { one: mem1.p, many: memN.p } : undefined,
        },
        targets,
      };
      if (!opts.json) printHuman(result);
      return result;
    });
  } finally {
    if (savedCa !== undefined) process.env.NODE_EXTRA_CA_CERTS = savedCa;
  }
}

export function printHuman(r: WatchdogBenchResult): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const c = r.crash;
  out('');
  out(`watchdog benchmark, ${r.date.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpu_model}), Node ${r.machine.node}, ${r.machine.platform}, load ${r.machine.load_1min} at the end`);
  out(`settings: ${r.settings.crashes} crashes per set-up (kill -9 after ≥ ${r.settings.up_before_kill_ms} ms up), poll: new connection every ${r.settings.poll_ms} ms`);
  out(`  slipway: ${r.settings.slipway_restart}`);
  out(`  PM2: ${r.settings.pm2}`);
  out(`  bare: ${r.settings.bare_loop}`);
  out(`  env: ${r.settings.env}`);
  out('');
  const row = (name: string, f: CrashFigures | undefined) => [name, f ? `${f.median_ms} ms` : '—', f ? `${f.p95_ms} ms` : '—', f ? `${f.min_ms}–${f.max_ms} ms` : '—', f ? String(f.failed_polls.reduce((a, b) => a + b, 0)) : '—'];
  printColumns([
    ['crash (kill -9) → first 200', 'median', 'p95', 'range', 'failed polls'],
    row('bare respawn loop (floor)', c.bare),
    row('slipway agent + supervisor', c.slipway),
    row(c.pm2 ? `PM2 ${c.pm2.version} (fork, defaults)` : 'PM2 (not run)', c.pm2),
  ], out);
  out(`slipway: kill → the agent's restart decision (its log), median ${c.slipway.kill_to_decision_median_ms} ms`);
  out('');
  const m = r.memory;
  const cell = (x: Memory) => `${mib(x.pss_kib)} / ${mib(x.rss_kib)}`;
  const memRows = [['memory, MiB PSS / RSS', 'slipway, 1 app', `slipway, ${m.slipway.many.apps_count} apps`, 'PM2, 1 app', `PM2, ${m.pm2?.many.apps_count ?? '?'} apps`]];
  const sup = (s: SideMemory) => Object.entries(s.supervision_parts).map(([k, v]) => `${k} ${cell(v)}`).join(', ');
  memRows.push(['supervision', cell(m.slipway.one.supervision), cell(m.slipway.many.supervision), m.pm2 ? cell(m.pm2.one.supervision) : '—', m.pm2 ? cell(m.pm2.many.supervision) : '—']);
  memRows.push(['app processes', cell(m.slipway.one.apps), cell(m.slipway.many.apps), m.pm2 ? cell(m.pm2.one.apps) : '—', m.pm2 ? cell(m.pm2.many.apps) : '—']);
  memRows.push(['total', cell(m.slipway.one.total), cell(m.slipway.many.total), m.pm2 ? cell(m.pm2.one.total) : '—', m.pm2 ? cell(m.pm2.many.total) : '—']);
  printColumns(memRows, out);
  out(`slipway supervision, 1 app: ${sup(m.slipway.one)}; ${m.slipway.many.apps_count} apps: ${sup(m.slipway.many)}`);
  if (m.pm2) {
    const perApp = (s: SideMemory) => s.apps.pss_kib / s.apps_count;
    out(`per app process (PSS): slipway ${mib(perApp(m.slipway.many))} MiB, PM2 ${mib(perApp(m.pm2.many))} MiB (PM2's container code runs inside each app)`);
  }
  out(`bare loop parent: ${cell(m.bare_loop_parent)}`);
  const heap = (h: Record<string, number>) => Object.entries(h).map(([k, v]) => `${k} ${v}`).join(', ');
  out(`agent's own figures (MiB), 1 app: ${heap(m.agent_heap_mib.one)}; ${m.slipway.many.apps_count} apps: ${heap(m.agent_heap_mib.many)}`);
  out('');
  printColumns([['target', 'value', 'wanted', 'result'], ...r.targets.map((t) => [t.figure, t.value, t.target, t.result])], out);
}
