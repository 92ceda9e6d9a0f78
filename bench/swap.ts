// Longer than ~300 lines on purpose: one benchmark, the same paced load against slipway's hot swaps and PM2's reloads, measured and reported side by side.
// The swap benchmark: a steady load at a fixed rate during N hot swaps of
// examples/hello on one local agent, then the same load during N `pm2 reload`s
// of the same kind of app in PM2 cluster mode (2 instances).
//
//   node dist/bench/swap.js [--runs N] [--rate R] [--json]     (npm run build first)
//
// Figures: failed and retried requests (test/helpers/load.ts: a client that
// paces its own requests and records each outcome), the swap time from the
// Activate call until the new version is ready (the DeployEvent stream's
// elapsed_s), the old version's drain, and the new version's own start time
// (spawn until READY=1) measured under the same load. For PM2: the wall time
// of each `pm2 reload`. A benchmark, not a test: it exits 0 when it measured,
// whatever the figures, and 1 when it could not measure.
// Longer than ~300 lines on purpose: one benchmark: its method, both set-ups (slipway, PM2) and its report kept together, so the figures read against the method.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { LocalAgent, killAppsUnder, CLI_BIN } from '../scripts/local-fleet.js';
import { AgentConnection } from '../coordinator/client.js';
import { Load, median, percentile, type LoadSummary, type LoadOptions } from '../test/helpers/load.js';
import { ROOT, HELLO, PM2_BIN, run, git, alive, sleep, until, getJson, freePort, Cleanup } from './common.js';

const PM2_APP = join(ROOT, 'bench', 'pm2-app.cjs');

export interface SwapBenchOptions {
  /** Swaps (and PM2 reloads) per side; each figure is over all of them. Default 20. */
  runs?: number;
  /** Print one JSON object instead of the human report (progress goes to stderr either way). */
  json?: boolean;
  /** Requests per second of the steady load. Default 1000. */
  rate?: number;
  /** Skip the PM2 half (e.g. when PM2 is not installed). */
  noPm2?: boolean;
}

interface SideFigures {
  load: Omit<LoadSummary, 'failures' | 'retries'> & { failures: string[]; retry_reasons: string[] };
}

export interface SwapBenchResult {
  schema: 1;
  bench: 'swap';
  date: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; node: string; platform: string };
  load: { rate: number; keepalive_clients: number; fresh_clients: number; path: string };
  runs: number;
  slipway: SideFigures & {
    swap_ready_ms: number[]; swap_ready_median_ms: number; swap_ready_p95_ms: number;
    swap_ready_client_ms: number[];
    swap_done_ms: number[]; swap_done_median_ms: number;
    start_to_ready_ms: number[]; start_to_ready_median_ms: number;
    drain_ms: number[]; drain_median_ms: number; drain_p95_ms: number;
    app_start_ms: number[]; app_start_median_ms: number; app_start_p95_ms: number;
    first_answer_ms: number[]; first_answer_median_ms: number;
    stale_answers: number;
  };
  pm2?: SideFigures & {
    version: string;
    reload_ms: number[]; reload_median_ms: number; reload_p95_ms: number;
  };
  targets: { figure: string; value: string; target: string; result: 'PASS' | 'MISS' }[];
}

const log = (s: string) => process.stderr.write(`swap | ${s}\n`);
const r0 = (x: number) => Math.round(x);

/**
 * hello started by hand as the agent starts it (NOTIFY_FD pipe), timed from
 * spawn until READY=1. The timing runs in a long-lived helper process, idle
 * between starts like the agent, not in this one, whose event loop is busy
 * with the load: one line on its stdin starts hello once, one line back says
 * how many ms it took.
 */
const START_HELPER = `
const { spawn } = require('node:child_process');
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  const t0 = performance.now();
  // The agent's base environment (agent/runtime/app-env.ts), not this process's: NODE_EXTRA_CA_CERTS alone adds ~90 ms to a Node start.
  const env = { PORT: '0', NOTIFY_FD: '3', NODE_ENV: 'production' };
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME', 'USER', 'LOGNAME', 'TMPDIR']) if (process.env[k] !== undefined) env[k] = process.env[k];
  const c = spawn(process.execPath, ['server.js'], { env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  let buf = '';
  c.stdio[3].on('data', (d) => { buf += d; if (buf.includes('READY=1\\n')) { console.log((performance.now() - t0).toFixed(1)); c.kill('SIGKILL'); } });
  c.on('exit', () => { if (!buf.includes('READY=1')) console.log('failed'); });
});
`;

class AppStarter {
  private readonly child;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(dir: string) {
    this.child = spawn(process.execPath, ['-e', START_HELPER], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Starts hello once; resolves with spawn → READY=1 in ms. */
  async once(): Promise<number> {
    const line = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write('start\n');
    });
    const ms = Number(line);
    if (!Number.isFinite(ms)) throw new Error(`hello did not become ready when started by hand: ${line}`);
    return ms;
  }

  close(): void {
    this.child.kill('SIGKILL');
  }
}

function summarise(s: LoadSummary): SideFigures['load'] {
  const fmt = (o: LoadSummary['failures'][number]) => `client ${o.client} (${o.kind}): ${o.error}`;
  return {
    requests: s.requests, ok: s.ok, failed: s.failed, retried: s.retried, durationMs: Math.round(s.durationMs), rate: Math.round(s.rate),
    failures: s.failures.slice(0, 50).map(fmt), retry_reasons: s.retries.slice(0, 50).map((o) => o.retryReason ?? ''),
  };
}

async function benchSlipway(work: string, runs: number, loadOpts: Omit<LoadOptions, 'host' | 'port'>, cleanup: Cleanup): Promise<SwapBenchResult['slipway']> {
  const agent = new LocalAgent({ dir: join(work, 'agent'), name: 'bench-swap', appBind: '127.0.0.1' });
  await agent.start();
  cleanup.add(async () => { await agent.stop('SIGKILL'); killAppsUnder(agent.stateDir); });
  log(`agent listening on ${agent.address}`);

  // The app repo: examples/hello with two tags, built by the real CLI.
  const app = join(work, 'app');
  cpSync(HELLO, app, { recursive: true });
  const port = await freePort();
  const yaml = readFileSync(join(app, 'slipway.yaml'), 'utf8')
    .replace(/port: 4000/, `port: ${port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  bench:\n    hosts: [${agent.address}]\n    tls: { insecure: true }\n`);
  writeFileSync(join(app, 'slipway.yaml'), yaml);
  git(app, 'init', '-q', '-b', 'main');
  const versions = ['1.0.0', '1.1.0'];
  const releases: { version: string; sha256: string; size: number; file: string }[] = [];
  for (const v of versions) {
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { version: string };
    pkg.version = v;
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(join(app, 'message.txt'), `release ${v}\n`);
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', `release ${v}`);
    git(app, 'tag', v);
    const b = await run(process.execPath, [CLI_BIN, 'build', v], { cwd: app, env: { ...process.env, NO_COLOR: '1' } });
    if (b.code !== 0) throw new Error(`slipway build ${v} failed:\n${b.out}`);
    const file = join(app, '.slipway', 'releases', `hello-${v}.tar.gz`);
    releases.push({ version: v, file, size: statSync(file).size, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') });
  }
  const conn = new AgentConnection(agent.address, { insecure: true }, 10_000);
  cleanup.add(() => conn.close());
  for (const r of releases) await conn.upload(r.file, { app: 'hello', version: r.version, sha256: r.sha256, size: r.size });

  type Ev = { event: string; elapsed_s: number; pid: number; message: string; at: number };
  const activate = async (r: (typeof releases)[number]) => {
    const events: Ev[] = [];
    const t0 = performance.now();
    await conn.activate({ app: 'hello', version: r.version, sha256: r.sha256, reason: 'deploy', requested_by: 'bench/swap' },
      (e) => events.push({ event: e.event, elapsed_s: e.elapsed_s, pid: e.pid, message: e.message, at: performance.now() - t0 }), 60_000);
    const last = events.at(-1);
    if (last?.event !== 'done') throw new Error(`activation of ${r.version} ended with ${last?.event}: ${last?.message}`);
    return { t0, events, get: (name: string) => events.find((e) => e.event === name) };
  };

  // First activation (unpacks both releases: the second is unpacked by its first swap, which is then not measured).
  await activate(releases[0]!);
  await activate(releases[1]!);
  await activate(releases[0]!);
  let current = await getJson('127.0.0.1', port);
  log(`hello ${current.version} on 127.0.0.1:${port} (pid ${current.pid}); load at ${loadOpts.keepAliveClients! + loadOpts.freshClients!} clients × ${1000 / loadOpts.intervalMs!} req/s`);
  const helloDir = join(work, 'hello-by-hand');
  cpSync(HELLO, helloDir, { recursive: true });
  const starter = new AppStarter(helloDir);
  cleanup.add(() => starter.close());
  await starter.once(); // warm-up, not counted

  const load = new Load({ host: '127.0.0.1', port, ...loadOpts }).start();
  cleanup.add(async () => { await load.stop(); });
  await sleep(2000); // steady state before the first swap
  const swapReady: number[] = [];
  const swapReadyClient: number[] = [];
  const swapDone: number[] = [];
  const startToReady: number[] = [];
  const drains: number[] = [];
  const appStarts: number[] = [];
  const firstServed: number[] = [];
  let stale = 0;
  for (let i = 0; i < runs; i++) {
    const to = releases[(i + 1) % 2]!;
    const oldPid = current.pid;
    const a = await activate(to);
    const starting = a.get('starting');
    const ready = a.get('ready');
    const draining = a.get('draining');
    if (!starting || !ready || !draining) throw new Error(`swap ${i + 1}: events ${a.events.map((e) => e.event).join(', ')}`);
    swapReady.push(ready.elapsed_s * 1000);
    swapReadyClient.push(ready.at);
    swapDone.push(a.get('done')!.elapsed_s * 1000);
    startToReady.push((ready.elapsed_s - starting.elapsed_s) * 1000);
    // The old version's drain: from the draining event until its pid is gone.
    const drainFrom = a.t0 + draining.at;
    while (alive(oldPid)) await sleep(2);
    drains.push(performance.now() - drainFrom);
    const doneAt = performance.now();
    await until(() => load.outcomes.some((o) => o.start >= doneAt && o.ok && o.version === to.version), `answers from ${to.version}`);
    const firstAnswer = load.outcomes.filter((o) => o.pid === ready.pid).reduce((m, o) => Math.min(m, o.end), Infinity);
    firstServed.push(firstAnswer - a.t0);
    stale += load.outcomes.filter((o) => o.start >= doneAt && o.ok && o.version !== to.version).length;
    current = { version: to.version, pid: ready.pid };
    // The app's own start, under the same load, between swaps.
    appStarts.push(await starter.once());
    log(`swap ${i + 1}/${runs} → ${to.version}: ready ${r0(swapReady.at(-1)!)} ms (starting→ready ${r0(startToReady.at(-1)!)} ms), ` +
      `drain ${r0(drains.at(-1)!)} ms; first answer from the new pid ${r0(firstServed.at(-1)!)} ms; hello by hand ${r0(appStarts.at(-1)!)} ms; ${load.summary().failed} failed, ${load.summary().retried} retried so far`);
    await sleep(500);
  }
  const summary = await load.stop();
  return {
    load: summarise(summary),
    swap_ready_ms: swapReady.map(r0), swap_ready_median_ms: r0(median(swapReady)), swap_ready_p95_ms: r0(percentile(swapReady, 95)),
    swap_ready_client_ms: swapReadyClient.map(r0),
    swap_done_ms: swapDone.map(r0), swap_done_median_ms: r0(median(swapDone)),
    start_to_ready_ms: startToReady.map(r0), start_to_ready_median_ms: r0(median(startToReady)),
    drain_ms: drains.map(r0), drain_median_ms: r0(median(drains)), drain_p95_ms: r0(percentile(drains, 95)),
    app_start_ms: appStarts.map(r0), app_start_median_ms: r0(median(appStarts)), app_start_p95_ms: r0(percentile(appStarts, 95)),
    first_answer_ms: firstServed.map(r0), first_answer_median_ms: r0(median(firstServed)),
    stale_answers: stale,
  };
}

async function benchPm2(work: string, runs: number, loadOpts: Omit<LoadOptions, 'host' | 'port'>, cleanup: Cleanup): Promise<NonNullable<SwapBenchResult['pm2']>> {
  const home = join(work, 'pm2-home');
  const env = { ...process.env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true', PM2_SILENT: 'true' };
  const pm2 = (...args: string[]) => run(process.execPath, [PM2_BIN, ...args], { env });
  const version = (await pm2('--version')).out.trim().split('\n').at(-1) ?? '?';
  const port = await freePort();
  const versionFile = join(work, 'pm2-version');
  writeFileSync(versionFile, '1.0.0\n');
  const eco = join(work, 'pm2-apps.json');
  writeFileSync(eco, JSON.stringify({ apps: [{ name: 'bench-app', script: PM2_APP, instances: 2, exec_mode: 'cluster', env: { PORT: String(port), VERSION_FILE: versionFile } }] }));
  cleanup.add(async () => { await pm2('kill'); });
  const st = await pm2('start', eco);
  if (st.code !== 0) throw new Error(`pm2 start failed:\n${st.out}`);
  await until(async () => (await getJson('127.0.0.1', port)).version === '1.0.0', 'the PM2 app to answer');
  log(`PM2 ${version}: bench-app ×2 (cluster) on 127.0.0.1:${port}`);

  const load = new Load({ host: '127.0.0.1', port, ...loadOpts }).start();
  cleanup.add(async () => { await load.stop(); });
  await sleep(2000);
  const reloads: number[] = [];
  for (let i = 0; i < runs; i++) {
    const v = i % 2 === 0 ? '1.1.0' : '1.0.0';
    writeFileSync(versionFile, `${v}\n`);
    const t0 = performance.now();
    const r = await pm2('reload', 'bench-app');
    reloads.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`pm2 reload failed:\n${r.out}`);
    const doneAt = performance.now();
    await until(() => load.outcomes.some((o) => o.start >= doneAt && o.ok && o.version === v), `answers from ${v} (PM2)`);
    log(`reload ${i + 1}/${runs} → ${v}: ${r0(reloads.at(-1)!)} ms; ${load.summary().failed} failed, ${load.summary().retried} retried so far`);
    await sleep(500);
  }
  const summary = await load.stop();
  return { version, load: summarise(summary), reload_ms: reloads.map(r0), reload_median_ms: r0(median(reloads)), reload_p95_ms: r0(percentile(reloads, 95)) };
}

export async function runSwapBench(opts: SwapBenchOptions = {}): Promise<SwapBenchResult> {
  const runs = opts.runs ?? 20;
  const rate = opts.rate ?? 1000;
  // 20 clients, each paced at rate/20 per second: 16 keep-alive, 4 with a new connection per request.
  const loadOpts = { keepAliveClients: 16, freshClients: 4, intervalMs: 20_000 / rate, timeoutMs: 10_000, maxDurationMs: 30 * 60_000 };
  const work = mkdtempSync(join(tmpdir(), 'slipway-bench-swap-'));
  const cleanup = new Cleanup(log);
  cleanup.add(() => rmSync(work, { recursive: true, force: true }));
  const onSignal = () => { void cleanup.all().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`slipway: ${runs} hot swaps of examples/hello on one local agent under ${rate} requests/s`);
    const slipway = await benchSlipway(work, runs, loadOpts, cleanup);
    let pm2: SwapBenchResult['pm2'];
    if (!opts.noPm2) {
      log(`PM2: ${runs} reloads, cluster ×2, under the same load`);
      pm2 = await benchPm2(work, runs, loadOpts, cleanup);
    }
    const cpu = cpus();
    const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS') as 'PASS' | 'MISS';
    const result: SwapBenchResult = {
      schema: 1, bench: 'swap', date: new Date().toISOString(),
      machine: { cpus: cpu.length, cpu_model: cpu[0]?.model ?? '?', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
      load: { rate, keepalive_clients: loadOpts.keepAliveClients, fresh_clients: loadOpts.freshClients, path: '/version' },
      runs, slipway, pm2,
      targets: [
        { figure: 'slipway failed requests', value: String(slipway.load.failed), target: '0', result: pass(slipway.load.failed === 0) },
        { figure: 'slipway retried requests', value: String(slipway.load.retried), target: '0', result: pass(slipway.load.retried === 0) },
        {
          figure: 'swap ready, median', value: `${slipway.swap_ready_median_ms} ms`,
          target: `≤ app start ${slipway.app_start_median_ms} + 100 ms`, result: pass(slipway.swap_ready_median_ms <= slipway.app_start_median_ms + 100),
        },
        {
          figure: 'swap ready, p95', value: `${slipway.swap_ready_p95_ms} ms`,
          target: `≤ app start p95 ${slipway.app_start_p95_ms} + 100 ms`, result: pass(slipway.swap_ready_p95_ms <= slipway.app_start_p95_ms + 100),
        },
      ],
    };
    if (!opts.json) printHuman(result);
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup.all();
  }
}

export function printHuman(r: SwapBenchResult): void {
  const s = r.slipway;
  const p = r.pm2;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('');
  out(`swap benchmark, ${r.date.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpu_model}), Node ${r.machine.node}, ${r.machine.platform}`);
  out(`load: ${r.load.rate} requests/s paced, ${r.load.keepalive_clients} keep-alive clients + ${r.load.fresh_clients} new-connection clients, GET ${r.load.path}; ${r.runs} swaps per side`);
  out('');
  const rows: [string, string, string][] = [
    ['', 'slipway (hot, 1 process)', p ? `PM2 ${p.version} (cluster ×2, reload)` : 'PM2 (not run)'],
    ['requests during the swaps', `${s.load.requests} at ${s.load.rate}/s`, p ? `${p.load.requests} at ${p.load.rate}/s` : '—'],
    ['failed requests', String(s.load.failed), p ? String(p.load.failed) : '—'],
    ['retried (reused keep-alive reset)', String(s.load.retried), p ? String(p.load.retried) : '—'],
    ['swap: Activate → new version ready', `median ${s.swap_ready_median_ms} ms, p95 ${s.swap_ready_p95_ms} ms`, '—'],
    ['swap: whole command', `Activate → done: median ${s.swap_done_median_ms} ms`, p ? `pm2 reload: median ${p.reload_median_ms} ms, p95 ${p.reload_p95_ms} ms` : '—'],
    ['new version: starting → ready', `median ${s.start_to_ready_median_ms} ms`, '—'],
    ['new version by hand: spawn → READY', `median ${s.app_start_median_ms} ms, p95 ${s.app_start_p95_ms} ms`, '—'],
    ['new version: Activate → first answer', `median ${s.first_answer_median_ms} ms`, '—'],
    ['old version drain (draining → exit)', `median ${s.drain_median_ms} ms, p95 ${s.drain_p95_ms} ms`, '—'],
  ];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  for (const [i, row] of rows.entries()) {
    out(row.map((cell, c) => cell.padEnd(w[c]!)).join('  ').trimEnd());
    if (i === 0) out(w.map((n) => '-'.repeat(n)).join('  '));
  }
  if (s.load.failures.length) out(`slipway failures: ${s.load.failures.join('; ')}`);
  if (p?.load.failures.length) out(`PM2 failures: ${p.load.failures.slice(0, 10).join('; ')}${p.load.failures.length > 10 ? ' …' : ''}`);
  out('');
  const t = [['target', 'value', 'wanted', 'result'], ...r.targets.map((x) => [x.figure, x.value, x.target, x.result])];
  const tw = [0, 1, 2, 3].map((c) => Math.max(...t.map((row) => row[c]!.length)));
  for (const [i, row] of t.entries()) {
    out(row.map((cell, c) => cell.padEnd(tw[c]!)).join('  ').trimEnd());
    if (i === 0) out(tw.map((n) => '-'.repeat(n)).join('  '));
  }
}

function parseArgs(argv: string[]): SwapBenchOptions | string {
  const o: SwapBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--json') o.json = true;
    else if (a === '--no-pm2') o.noPm2 = true;
    else if (a === '--runs' || a.startsWith('--runs=')) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 200) return '--runs needs a whole number from 1 to 200';
      o.runs = n;
    } else if (a === '--rate' || a.startsWith('--rate=')) {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 10 || n > 20_000) return '--rate needs a number from 10 to 20000';
      o.rate = n;
    } else if (a === '-h' || a === '--help') return '';
    else return `unknown option ${a}`;
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const o = parseArgs(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`${o ? `${o}\n` : ''}usage: node dist/bench/swap.js [--runs N (20)] [--rate R (1000)] [--no-pm2] [--json]\n`);
    process.exit(o ? 2 : 0);
  }
  runSwapBench(o).then((r) => {
    if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    process.exit(0);
  }, (err: unknown) => {
    process.stderr.write(`swap bench could not measure: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
