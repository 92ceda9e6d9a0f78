// `npm run bench -- pipeline [--runs N] [--quick] [--json]`: runs a benchmark
// and prints its figures, each the median of N runs, with its target and
// PASS/MISS. A benchmark, not a test: it exits 0 when it measured (MISS or
// not), 1 when it could not measure, 2 on bad usage.
import { benchPipeline, Cleanup, type PipelineResult } from './pipeline.js';
import { unpackReport } from './unpack.js';

const USAGE = `usage: npm run bench -- <benchmark> [options]
       node dist/bench/run.js <benchmark> [options]

benchmarks:
  pipeline    upload throughput (gRPC vs plain TCP), unpack time (ours vs GNU tar -xzf + sync, in pairs),
              re-deploy of a stored release (ListReleases + skipped upload); docs/benchmarks.md
  unpack      the pipeline's unpack pairs alone, with their own options (unpack --help)
  swap        hot swaps under load vs pm2 reload (bench/swap.ts); docs/benchmarks-swap.md
  watchdog    crash → serving again vs a bare respawn loop and PM2; memory of the supervision
              with 1 and 10 apps vs PM2 (bench/watchdog.ts); docs/benchmarks.md
  status      /metrics latency at 200 scrapes/s; 'slipway status' of 20 agents vs
              'slipway --version' (bench/status.ts); docs/benchmarks.md
  status-scale  'slipway status' of 50, 200 and 1,000 simulated agents: wall, CLI CPU per host
              (bench/status-scale.ts; status-scale --help); docs/benchmarks.md
  ui          'slipway ui' with 200 simulated agents × 3 apps: first paint, updates applied in
              headless Chromium, the ui process's CPU and memory (bench/ui.ts; ui --help)
  elixir      a BEAM release (examples/elixir-hello) switched by relup, hot swap and restart under load:
              failed requests, Activate→done, RSS (bench/elixir.ts; elixir --help); docs/benchmarks.md
  chaos       SIGKILL of the agent and of the supervising process at every step of deploy,
              rollback, restart, env set and prune under load; invariants after each kill
              (bench/chaos.ts, its own options: chaos --help); docs/benchmarks.md

options:
  --runs N    runs per figure; each figure is the median (pipeline: default 3; swap: 20;
              watchdog: crashes per set-up, 20; status: CLI runs, 10)
  --quick     pipeline: a small tree (~4,000 files, ~5 MB .tar.gz) instead of ~86,000 files, ~100 MB
  --rate R    swap: requests per second of the load (default 1000); status: scrapes/s (200)
  --no-pm2    swap, watchdog: skip PM2
  --apps N    watchdog: apps of the second memory figure (default 10)
  --hosts N   status: agents (default 20)
  --seconds S status: seconds of /metrics scrapes (default 20)
  --json      print one JSON object on stdout (progress goes to stderr)
  -h, --help  this text

The pipeline's release tarball is generated once and cached under bench/.work/
(gitignored); delete that directory to regenerate it.`;

interface Args { bench: string; runs?: number; quick: boolean; json: boolean; rate?: number; noPm2: boolean; apps?: number; hosts?: number; seconds?: number }

const BENCHES = ['pipeline', 'swap', 'watchdog', 'status'];

function parseArgs(argv: string[]): Args | string {
  const a: Args = { bench: '', quick: false, json: false, noPm2: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i]);
    if (arg === '--quick') a.quick = true;
    else if (arg === '--json') a.json = true;
    else if (arg === '--no-pm2') a.noPm2 = true;
    else if (arg === '--runs' || arg.startsWith('--runs=')) {
      const v = value();
      const n = Number(v);
      if (!v || !Number.isInteger(n) || n < 1 || n > 1000) return `--runs needs a whole number from 1 to 1000, not ${v ?? 'nothing'}`;
      a.runs = n;
    } else if (arg === '--rate' || arg.startsWith('--rate=')) {
      const v = value();
      const n = Number(v);
      if (!v || !Number.isFinite(n) || n < 10 || n > 20_000) return `--rate needs a number from 10 to 20000, not ${v ?? 'nothing'}`;
      a.rate = n;
    } else if (['--apps', '--hosts', '--seconds'].some((o) => arg === o || arg.startsWith(`${o}=`))) {
      const name = arg.replace(/=.*$/, '');
      const v = value();
      const n = Number(v);
      const max = name === '--seconds' ? 600 : 50;
      if (!v || !Number.isInteger(n) || n < 1 || n > max) return `${name} needs a whole number from 1 to ${max}, not ${v ?? 'nothing'}`;
      if (name === '--apps') a.apps = n; else if (name === '--hosts') a.hosts = n; else a.seconds = n;
    } else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (a.bench) return `one benchmark at a time (got ${a.bench} and ${arg})`;
    else a.bench = arg;
  }
  if (!a.bench) return 'which benchmark?';
  if (!BENCHES.includes(a.bench)) return `unknown benchmark "${a.bench}"`;
  if (a.quick && a.bench !== 'pipeline') return '--quick is an option of pipeline';
  if (a.rate !== undefined && a.bench !== 'swap' && a.bench !== 'status') return '--rate is an option of swap and status';
  if (a.noPm2 && a.bench !== 'swap' && a.bench !== 'watchdog') return '--no-pm2 is an option of swap and watchdog';
  if (a.apps !== undefined && a.bench !== 'watchdog') return '--apps is an option of watchdog';
  if ((a.hosts !== undefined || a.seconds !== undefined) && a.bench !== 'status') return '--hosts and --seconds are options of status';
  return a;
}

function printTable(r: PipelineResult): void {
  const rows = [['figure', 'value', 'target', 'result'], ...r.table.map((t) => [t.figure, t.value, t.target || '—', t.result])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
}

function printHuman(r: PipelineResult): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const mib = r.release.bytes / 2 ** 20;
  console.log('');
  console.log(`pipeline benchmark, ${r.date.slice(0, 10)}, ${r.machine.cpus} cores (${r.machine.cpu_model}), ${r.machine.memory_gib} GiB, Node ${r.machine.node}, ${r.machine.platform}`);
  console.log(`load average (1 min): ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end${Math.max(r.load.start, r.load.end) > r.machine.cpus / 2 ? ' — the machine was busy; figures are skewed' : ''}`);
  console.log(`release: ${(r.release.bytes / 1e6).toFixed(1)} MB .tar.gz, ${r.release.files} files, ${(r.release.unpacked_bytes / 1e6).toFixed(0)} MB unpacked` +
    `${r.release.cached ? ' (cached in bench/.work/)' : ''}; median of ${r.runs} run${r.runs === 1 ? '' : 's'}`);
  console.log('');
  console.log(`(a) upload over loopback (s per run):`);
  console.log(`    agent, data port, no TLS          ${r.upload.agentMs.map(s).join(', ')}  → ${r.upload.agentMiBs.toFixed(0)} MiB/s`);
  console.log(`    agent, data port, mTLS + signed   ${r.upload.mtlsMs.map(s).join(', ')}  → ${r.upload.mtlsMiBs.toFixed(0)} MiB/s (${r.upload.mtlsRatio.toFixed(2)}×)`);
  console.log(`    agent, gRPC Upload, no TLS        ${r.upload.grpcMs.map(s).join(', ')}  → ${r.upload.grpcMiBs.toFixed(0)} MiB/s (${r.upload.grpcRatio.toFixed(2)}×)`);
  console.log(`    plain TCP, sha256 + file + fsync  ${r.upload.baselineMs.map(s).join(', ')}  → ${r.upload.baselineMiBs.toFixed(0)} MiB/s`);
  console.log(`    ratio ${r.upload.ratio.toFixed(2)}× (data port, no TLS; ${mib.toFixed(1)} MiB each)`);
  console.log(`(b) unpack, pairs (s per run):`);
  for (const l of unpackReport(r.unpack)) console.log(`    ${l}`);
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`(c) re-deploy of the stored release (ms per run):`);
  console.log(`    ListReleases + decision, new connection  ${ms(r.redeploy.decisionColdMs)}  median ${r.redeploy.medianDecisionColdMs.toFixed(1)}  (upload ${r.redeploy.skipped ? 'skipped' : 'NOT skipped'})`);
  console.log(`    ListReleases + decision, open connection ${ms(r.redeploy.decisionWarmMs)}  median ${r.redeploy.medianDecisionWarmMs.toFixed(1)}`);
  console.log(`    upload of the same sha256 (BeginUpload) ${ms(r.redeploy.dedupUploadMs)}  median ${r.redeploy.medianDedupUploadMs.toFixed(1)}; ` +
    `bytes_received ${r.redeploy.bytesReceived.join(', ')}; upload_bytes_total delta ${r.redeploy.uploadBytesTotalDelta.join(', ')}; ` +
    `client had read ${r.redeploy.clientBytesRead.map((b) => `${(b / 2 ** 20).toFixed(0)} MiB`).join(', ')} of the file when the result came`);
  console.log('');
  printTable(r);
}

if (process.argv[2] === 'unpack') {
  process.exit(await (await import('./unpack-cli.js')).runUnpackBench(process.argv.slice(3)));
}

if (process.argv[2] === 'status-scale') {
  // 'slipway status' of 50/200/1,000 simulated agents (bench/status-scale.ts; its own options: status-scale --help).
  process.exit(await (await import('./status-scale.js')).runStatusScaleCli(process.argv.slice(3)));
}

if (process.argv[2] === 'ui') {
  // `slipway ui` at scale, in headless Chromium (bench/ui.ts; its own options: ui --help).
  process.exit(await (await import('./ui.js')).runUiBench(process.argv.slice(3)));
}

if (process.argv[2] === 'elixir') {
  // Relup vs hot swap vs restart of a mix release (bench/elixir.ts; its own options: elixir --help).
  process.exit(await (await import('./elixir.js')).runElixirBench(process.argv.slice(3)));
}

if (process.argv[2] === 'sea') {
  // The agent as a single executable against the bundle on node (bench/sea.ts: size, start, idle memory).
  process.exit(await (await import('./sea.js')).runSeaBench(process.argv.slice(3)));
}

if (process.argv[2] === 'chaos') {
  // The fault-injection run has its own options (bench/chaos.ts).
  process.exit(await (await import('./chaos.js')).runChaosBench(process.argv.slice(3)));
}

const parsed = parseArgs(process.argv.slice(2));
if (process.argv.includes('-h') || process.argv.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
if (typeof parsed === 'string') {
  console.error(`${parsed}\n\n${USAGE}`);
  process.exit(2);
}

if (parsed.bench === 'swap' || parsed.bench === 'watchdog' || parsed.bench === 'status') {
  // Each of these prints its report, handles Ctrl-C and stops what it starts.
  const p = parsed;
  const benches: Record<string, () => Promise<unknown>> = {
    swap: async () => (await import('./swap.js')).runSwapBench({ runs: p.runs, json: p.json, rate: p.rate, noPm2: p.noPm2 }),
    watchdog: async () => (await import('./watchdog.js')).runWatchdogBench({ runs: p.runs, json: p.json, apps: p.apps, noPm2: p.noPm2 }),
    status: async () => (await import('./status.js')).runStatusBench({ runs: p.runs, json: p.json, rate: p.rate, hosts: p.hosts, seconds: p.seconds }),
  };
  try {
    const r = await benches[p.bench]!();
    if (parsed.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    process.exit(0);
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  }
}

const cleanup = new Cleanup();
const log = (s: string) => process.stderr.write(`${s}\n`);
let interrupted = false;
const onSignal = (sig: NodeJS.Signals) => {
  if (interrupted) { cleanup.killSync(); process.exit(130); }
  interrupted = true;
  log(`\n${sig}: stopping every agent and child process the bench started…`);
  void cleanup.all().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', () => cleanup.killSync());

try {
  const r = await benchPipeline({ runs: parsed.runs ?? 3, quick: parsed.quick, cleanup, log });
  await cleanup.all();
  if (parsed.json) console.log(JSON.stringify(r, null, 1));
  else printHuman(r);
} catch (err) {
  if (!interrupted) {
    await cleanup.all();
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  }
}
