// The status benchmark: what monitoring and `slipway status` cost.
//
//   npm run bench -- status [--runs N (10)] [--hosts N (20)] [--seconds S (20)] [--rate R (200)] [--json]
//
// N local agents (scripts/local-fleet.ts), each with its own app address
// (127.0.x.y) and examples/hello deployed by the real CLI (one app repo whose
// environment lists every agent). Then:
//   /metrics  GET of the first agent's HTTP endpoint at R scrapes/s for S
//             seconds (open loop: request k sent at start + k/R s, whatever
//             the answers before it; keep-alive connections as a Prometheus
//             server uses, up to 8 at once); latency = send → last byte.
//             That agent samples the host every second (sample_interval_s: 1),
//             so the sampler works throughout.
//   status    wall time of `slipway status bench` (all N hosts), spawn → exit,
//             beside `slipway --version` (process start alone), alternating,
//             after one untimed run of each (which writes the CLI's code
//             cache, in the bench's own dir); medians of --runs. Also timed
//             without the code cache (SLIPWAY_CODE_CACHE=0), for reference.
// The CLI runs with the environment of the shell that started the bench;
// NODE_EXTRA_CA_CERTS (set on the machine of the figures) costs every Node
// start ~90 ms, so both are also timed without it. The agents run without it.
// A benchmark, not a test: exits 0 when it measured, whatever the figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { LocalAgent, killAppsUnder, CLI_BIN } from '../scripts/local-fleet.js';
import { median, percentile } from '../test/helpers/load.js';
import { until, getJson, freePort, withCleanup, machine, helloRepo, slipway, sleep, pass, printColumns, type Machine, type Result } from './common.js';

export interface StatusBenchOptions {
  /** Timed runs of `status` and of `--version`. Default 10. */
  runs?: number;
  /** Agents. Default 20. */
  hosts?: number;
  /** Seconds of /metrics scrapes. Default 20. */
  seconds?: number;
  /** Scrapes per second. Default 200. */
  rate?: number;
  /** Print no human report (the caller prints the JSON). */
  json?: boolean;
}

const TARGETS = { metricsP99Ms: 10, statusOverStartMs: 150, startMs: 300 } as const;

interface CliTimes { ms: number[]; median_ms: number; min_ms: number; max_ms: number }

export interface StatusBenchResult {
  schema: 1;
  bench: 'status';
  date: string;
  machine: Machine;
  settings: { hosts: number; runs: number; scrape_rate: number; scrape_seconds: number; sample_interval_s: number; cli_env_has_node_extra_ca_certs: boolean };
  metrics: {
    scrapes: number; failed: number; achieved_rate: number; late_sends: number; body_bytes: number; sampler_figures_seen: boolean;
    p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number;
  };
  cli: {
    version: CliTimes; status: CliTimes; status_over_start_ms: number;
    without_ca_certs: { version: CliTimes; status: CliTimes; status_over_start_ms: number };
    /** Also without the CLI's code cache (SLIPWAY_CODE_CACHE=0): every start compiles. */
    without_code_cache: { version: CliTimes; status: CliTimes; status_over_start_ms: number };
    /** Hosts whose row in the last status output says running. */
    status_rows: number;
  };
  targets: { figure: string; value: string; target: string; result: Result }[];
}

const log = (s: string) => process.stderr.write(`status | ${s}\n`);
const r1 = (x: number) => Math.round(x * 10) / 10;
const times = (ms: number[]): CliTimes => ({ ms: ms.map(r1), median_ms: r1(median(ms)), min_ms: r1(Math.min(...ms)), max_ms: r1(Math.max(...ms)) });

/** Open-loop scrapes of url at `rate` per second for `seconds`; latency of each from send to the last byte. */
async function scrape(host: string, port: number, rate: number, seconds: number): Promise<StatusBenchResult['metrics']> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const lat: number[] = [];
  let failed = 0;
  let late = 0;
  let bodyBytes = 0;
  let samplerSeen = false;
  const inFlight = new Set<Promise<void>>();
  const one = () => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host, port, path: '/metrics', agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        if (res.statusCode === 200) {
          lat.push(performance.now() - t0);
          bodyBytes = Buffer.byteLength(body);
          if (/^slipway_app_memory_rss_bytes\{app="hello"\} [1-9]/m.test(body)) samplerSeen = true;
        } else failed++;
        resolve();
      });
      res.on('error', () => { failed++; resolve(); });
    });
    req.on('error', () => { failed++; resolve(); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
  const interval = 1000 / rate;
  const n = Math.round(rate * seconds);
  const start = performance.now();
  for (let k = 0; k < n; k++) {
    const due = start + k * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -interval) late++;
    const p = one();
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  const dur = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    scrapes: lat.length + failed, failed, achieved_rate: Math.round((lat.length + failed) / dur), late_sends: late, body_bytes: bodyBytes, sampler_figures_seen: samplerSeen,
    p50_ms: r1(percentile(lat, 50)), p90_ms: r1(percentile(lat, 90)), p99_ms: r1(percentile(lat, 99)), max_ms: r1(Math.max(...lat)),
  };
}

/** Wall time of one CLI run, spawn → exit; throws on an unexpected exit code. */
function timeCli(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`slipway ${args.join(' ')} exited ${code}:\n${out}`));
      else resolve({ ms, out });
    });
  });
}

async function timeCliPair(cwd: string, env: NodeJS.ProcessEnv, runs: number, label: string): Promise<{ version: CliTimes; status: CliTimes; statusOut: string }> {
  await timeCli(cwd, env, ['--version']);
  let statusOut = (await timeCli(cwd, env, ['status', 'bench'])).out;
  const v: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < runs; i++) {
    v.push((await timeCli(cwd, env, ['--version'])).ms);
    const st = await timeCli(cwd, env, ['status', 'bench']);
    s.push(st.ms);
    statusOut = st.out;
  }
  log(`${label}: --version ${v.map((x) => x.toFixed(0)).join(' ')} ms; status ${s.map((x) => x.toFixed(0)).join(' ')} ms`);
  return { version: times(v), status: times(s), statusOut };
}

export async function runStatusBench(opts: StatusBenchOptions = {}): Promise<StatusBenchResult> {
  const runs = opts.runs ?? 10;
  const nHosts = opts.hosts ?? 20;
  const seconds = opts.seconds ?? 20;
  const rate = opts.rate ?? 200;
  // The CLI's code cache (coordinator/code-cache.ts) in the bench's own dir: the untimed first run of each command writes it.
  const cliEnv: NodeJS.ProcessEnv = { ...process.env };
  const savedCa = process.env.NODE_EXTRA_CA_CERTS;
  const work = mkdtempSync(join(tmpdir(), 'slipway-bench-status-'));
  try {
    return await withCleanup(log, async (cleanup) => {
      cleanup.add(() => rmSync(work, { recursive: true, force: true }));
      cliEnv.SLIPWAY_CACHE_DIR = join(work, 'code-cache');
      delete process.env.NODE_EXTRA_CA_CERTS; // the agents (and their supervisors and apps) inherit the bench's environment
      const octet = 10 + Math.floor(Math.random() * 200);
      const agents = Array.from({ length: nHosts }, (_, i) => new LocalAgent({
        dir: join(work, `agent${i + 1}`), name: `agent${i + 1}`, appBind: `127.0.${octet}.${i + 2}`,
        extraConfig: i === 0 ? 'sample_interval_s: 1' : undefined,
      }));
      cleanup.add(async () => {
        await Promise.allSettled(agents.map((a) => a.stop('SIGKILL')));
        for (const a of agents) killAppsUnder(a.stateDir);
      });
      await Promise.all(agents.map((a) => a.start()));
      log(`${nHosts} agents listening (${agents[0]!.address} … ${agents.at(-1)!.address}); the first's HTTP endpoint ${agents[0]!.httpAddress}, sample_interval_s: 1`);
      const port = await freePort();
      const repo = await helloRepo(join(work, 'app'), { app: 'hello', port, hosts: agents.map((a) => a.address) });
      const d = await slipway(repo, 'deploy', 'bench', '1.0.0');
      if (d.code !== 0) throw new Error(`slipway deploy to ${nHosts} agents failed:\n${d.out}`);
      await until(async () => (await getJson(agents[0]!.opts.appBind!, port)).pid > 0, 'hello on the first agent to answer');
      log(`hello 1.0.0 deployed to ${nHosts} agents (port ${port})`);
      await sleep(3000); // the starts settle; the sampler has sampled

      const h = agents[0]!.httpAddress;
      const hi = h.lastIndexOf(':');
      log(`/metrics at ${rate}/s for ${seconds} s on ${h}`);
      const metrics = await scrape(h.slice(0, hi), Number(h.slice(hi + 1)), rate, seconds);
      log(`/metrics: p50 ${metrics.p50_ms} ms, p99 ${metrics.p99_ms} ms, ${metrics.failed} failed, ${metrics.body_bytes} bytes`);

      if (savedCa !== undefined) process.env.NODE_EXTRA_CA_CERTS = savedCa;
      const asIs = await timeCliPair(repo, cliEnv, runs, `CLI, shell environment${savedCa ? ' (NODE_EXTRA_CA_CERTS set)' : ''}`);
      const noCaEnv = { ...cliEnv };
      delete noCaEnv.NODE_EXTRA_CA_CERTS;
      const noCa = await timeCliPair(repo, noCaEnv, runs, 'CLI without NODE_EXTRA_CA_CERTS');
      const noCache = await timeCliPair(repo, { ...noCaEnv, SLIPWAY_CODE_CACHE: '0' }, runs, 'CLI without NODE_EXTRA_CA_CERTS nor code cache');
      const rows = agents.filter((a) => asIs.statusOut.split('\n').some((l) => l.startsWith(`${a.address} `) && l.includes('running'))).length;

      const over = r1(asIs.status.median_ms - asIs.version.median_ms);
      const result: StatusBenchResult = {
        schema: 1, bench: 'status', date: new Date().toISOString(), machine: machine(),
        settings: { hosts: nHosts, runs, scrape_rate: rate, scrape_seconds: seconds, sample_interval_s: 1, cli_env_has_node_extra_ca_certs: savedCa !== undefined },
        metrics,
        cli: {
          version: asIs.version, status: asIs.status, status_over_start_ms: over,
          without_ca_certs: { version: noCa.version, status: noCa.status, status_over_start_ms: r1(noCa.status.median_ms - noCa.version.median_ms) },
          without_code_cache: { version: noCache.version, status: noCache.status, status_over_start_ms: r1(noCache.status.median_ms - noCache.version.median_ms) },
          status_rows: rows,
        },
        targets: [
          { figure: '/metrics p99', value: `${metrics.p99_ms} ms (p50 ${metrics.p50_ms})`, target: `< ${TARGETS.metricsP99Ms} ms`, result: pass(metrics.p99_ms < TARGETS.metricsP99Ms && metrics.failed === 0) },
          {
            figure: `status of ${nHosts} hosts − process start`, value: `${over} ms (${asIs.status.median_ms} − ${asIs.version.median_ms})`,
            target: `< ${TARGETS.statusOverStartMs} ms`, result: pass(over < TARGETS.statusOverStartMs),
          },
          { figure: 'process start (--version)', value: `${asIs.version.median_ms} ms`, target: `< ${TARGETS.startMs} ms`, result: pass(asIs.version.median_ms < TARGETS.startMs) },
        ],
      };
      if (!opts.json) printHuman(result);
      return result;
    });
  } finally {
    if (savedCa !== undefined) process.env.NODE_EXTRA_CA_CERTS = savedCa;
  }
}

export function printHuman(r: StatusBenchResult): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const m = r.metrics;
  const c = r.cli;
  out('');
  out(`status benchmark, ${r.date.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpu_model}), Node ${r.machine.node}, ${r.machine.platform}, load ${r.machine.load_1min} at the end`);
  out(`${r.settings.hosts} agents on loopback, hello deployed to each; /metrics at ${r.settings.scrape_rate}/s for ${r.settings.scrape_seconds} s (sample_interval_s: ${r.settings.sample_interval_s}); CLI medians of ${r.settings.runs}`);
  out('');
  out(`/metrics: ${m.scrapes} scrapes at ${m.achieved_rate}/s achieved, ${m.failed} failed, ${m.late_sends} sent late, ${m.body_bytes} bytes each, sampler figures ${m.sampler_figures_seen ? 'present' : 'MISSING'}`);
  out(`          p50 ${m.p50_ms} ms, p90 ${m.p90_ms} ms, p99 ${m.p99_ms} ms, max ${m.max_ms} ms`);
  const t = (x: CliTimes) => `median ${x.median_ms} ms (${x.min_ms}–${x.max_ms})`;
  printColumns([
    ['CLI wall time', r.settings.cli_env_has_node_extra_ca_certs ? 'shell env (NODE_EXTRA_CA_CERTS set)' : 'shell env', 'without NODE_EXTRA_CA_CERTS', '… and no code cache'],
    ['slipway --version', t(c.version), t(c.without_ca_certs.version), t(c.without_code_cache.version)],
    [`slipway status (${r.settings.hosts} hosts, ${c.status_rows} running)`, t(c.status), t(c.without_ca_certs.status), t(c.without_code_cache.status)],
    ['status − --version', `${c.status_over_start_ms} ms`, `${c.without_ca_certs.status_over_start_ms} ms`, `${c.without_code_cache.status_over_start_ms} ms`],
  ], out);
  out('');
  printColumns([['target', 'value', 'wanted', 'result'], ...r.targets.map((x) => [x.figure, x.value, x.target, x.result])], out);
}
