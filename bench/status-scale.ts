// The status-scale benchmark: `slipway status` of 50, 200 and 1,000 hosts.
//
//   npm run bench -- status-scale [--runs N (3)] [--hosts 50,200,1000] [--json]
//
// The hosts are simulated agents (scripts/sim-agents.ts): real gRPC servers
// of the agent with its mTLS credentials and Status handler, several hundred
// to a process on loopback ports, with one app that stands still. The CLI is
// the installed bundle (dist/bin/slipway.cjs), run with mTLS (a deployer
// certificate, agent certificates for 127.0.0.1) and NO_COLOR, spawned by a
// shell whose `times` gives the CLI's CPU (user + system, its own and its
// children's; it has none). For each fleet size, after one untimed run:
//   wall     spawn → exit of `slipway --json status scale`, median of --runs
//   cpu      the CLI's CPU time for that run, median
//   per host (cpu of status − cpu of `slipway --version`) / hosts: what each
//            host adds to the CLI, process start-up taken out
//   answered hosts whose entry in the JSON document is ok, in the last run
// Targets (issue 15): 1,000 hosts answered in < 2 s of wall, < 1 ms of CLI CPU per host.
// A benchmark, not a test: exits 0 when it measured, whatever the figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN } from '../scripts/local-fleet.js';
import { makePki } from '../scripts/pki.js';
import { startSimAgents } from '../scripts/sim-agents.js';
import { median } from '../test/helpers/load.js';
import { machine, pass, printColumns, writeScaleConfig, type Machine, type Result } from './common.js';

export interface StatusScaleOptions {
  runs?: number;
  hosts?: number[];
  json?: boolean;
}

export interface StatusScaleRow {
  hosts: number;
  answered: number;
  wall_ms: number[];
  cpu_ms: number[];
  median_wall_ms: number;
  median_cpu_ms: number;
  cpu_per_host_ms: number;
}

export interface StatusScaleResult {
  schema: 1;
  bench: 'status-scale';
  date: string;
  machine: Machine;
  settings: { runs: number; agent_processes: Record<string, number>; version_cpu_ms: number; version_wall_ms: number };
  rows: StatusScaleRow[];
  targets: { figure: string; value: string; target: string; result: Result }[];
}

const TARGETS = { wallMs: 2000, cpuPerHostMs: 1 } as const;
const log = (s: string) => process.stderr.write(`status-scale | ${s}\n`);
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** One CLI run: wall (spawn → exit), the CLI's CPU from the shell's `times`, its stdout. */
export function timedCli(cwd: string, args: string[]): Promise<{ wallMs: number; cpuMs: number; code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // `times` prints the shell's own CPU, then its children's: the second line is the CLI's.
    // SLIPWAY_FLEET_BIN_DIR: a copy of dist/bin, for a machine where others rebuild dist/ meanwhile.
    const bin = process.env.SLIPWAY_FLEET_BIN_DIR ? join(process.env.SLIPWAY_FLEET_BIN_DIR, 'slipway.cjs') : CLI_BIN;
    const child = spawn('sh', ['-c', '"$0" "$@" 2>/dev/null; rc=$?; times >&2; exit $rc', process.execPath, bin, ...args], {
      cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      const lines = err.trim().split('\n');
      const secs = [...(lines.at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      if (secs.length !== 2) return reject(new Error(`no CPU times from the shell: ${err}`));
      resolve({ wallMs, cpuMs: (secs[0] + secs[1]) * 1000, code: code ?? -1, out });
    });
  });
}

export async function runStatusScaleBench(opts: StatusScaleOptions = {}): Promise<StatusScaleResult> {
  const runs = opts.runs ?? 3;
  const sizes = opts.hosts ?? [50, 200, 1000];
  const dir = mkdtempSync(join(tmpdir(), 'slipway-status-scale-'));
  try {
    log('making certificates');
    const pki = await makePki(join(dir, 'pki'));
    const agentCert = await pki.agentCert('sim-agent', ['127.0.0.1', 'localhost']);
    const agentTls = { ca: pki.ca, cert: agentCert.cert, key: agentCert.key };
    const repo = join(dir, 'repo');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(repo);
    writeScaleConfig(repo, ['127.0.0.1:1'], pki.coordinatorTls);
    await timedCli(repo, ['--version']);
    const versions = [];
    for (let i = 0; i < runs; i++) versions.push(await timedCli(repo, ['--version']));
    const versionCpu = median(versions.map((v) => v.cpuMs));
    const versionWall = median(versions.map((v) => v.wallMs));
    log(`slipway --version: ${r1(versionWall)} ms wall, ${r1(versionCpu)} ms CPU`);
    const rows: StatusScaleRow[] = [];
    const procs: Record<string, number> = {};
    for (const n of sizes) {
      log(`starting ${n} simulated agents`);
      const sims = await startSimAgents(n, { tls: agentTls });
      procs[String(n)] = sims.pids.length;
      try {
        writeScaleConfig(repo, sims.addresses, pki.coordinatorTls);
        await timedCli(repo, ['--json', 'status', 'scale']);
        const wall: number[] = [];
        const cpu: number[] = [];
        let answered = 0;
        for (let i = 0; i < runs; i++) {
          const r = await timedCli(repo, ['--json', 'status', 'scale']);
          const doc = JSON.parse(r.out) as { hosts: { ok: boolean }[] };
          answered = doc.hosts.filter((h) => h.ok).length;
          wall.push(r.wallMs);
          cpu.push(r.cpuMs);
          log(`${n} hosts: ${r1(r.wallMs)} ms wall, ${r1(r.cpuMs)} ms CPU, ${answered} answered (exit ${r.code})`);
        }
        const row = { hosts: n, answered, wall_ms: wall.map(r1), cpu_ms: cpu.map(r1), median_wall_ms: r1(median(wall)), median_cpu_ms: r1(median(cpu)), cpu_per_host_ms: r3((median(cpu) - versionCpu) / n) };
        rows.push(row);
      } finally {
        await sims.stop();
      }
    }
    const big = rows.find((r) => r.hosts === Math.max(...sizes)) as StatusScaleRow;
    const result: StatusScaleResult = {
      schema: 1, bench: 'status-scale', date: new Date().toISOString(), machine: machine(),
      settings: { runs, agent_processes: procs, version_cpu_ms: r1(versionCpu), version_wall_ms: r1(versionWall) },
      rows,
      targets: [
        { figure: `status of ${big.hosts} hosts: all answered`, value: `${big.answered}/${big.hosts}`, target: 'all', result: pass(big.answered === big.hosts) },
        { figure: `status of ${big.hosts} hosts: wall`, value: `${big.median_wall_ms} ms`, target: `< ${TARGETS.wallMs} ms`, result: pass(big.median_wall_ms < TARGETS.wallMs) },
        { figure: `status of ${big.hosts} hosts: CLI CPU per host`, value: `${big.cpu_per_host_ms} ms`, target: `< ${TARGETS.cpuPerHostMs} ms`, result: pass(big.cpu_per_host_ms < TARGETS.cpuPerHostMs) },
      ],
    };
    if (!opts.json) {
      printColumns([['hosts', 'answered', 'wall (median)', 'CLI CPU (median)', 'CPU per host'], ...rows.map((r) => [String(r.hosts), String(r.answered), `${r.median_wall_ms} ms`, `${r.median_cpu_ms} ms`, `${r.cpu_per_host_ms} ms`])]);
      printColumns([['figure', 'value', 'target', 'result'], ...result.targets.map((t) => [t.figure, t.value, t.target, t.result])]);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * --ab N: the channel set-up before issue 15 (CA, certificate and key read
 * and a TLS context made per host, Node's checkServerIdentity on a detailed
 * peer certificate, channelz on) against today's (AgentConnection: one
 * context, agent-tls.ts's check, channelz off), alternating in this one
 * process, 4 rounds each, against N simulated agents: each round's CPU of
 * this process per host (Status of every host, 64 at a time).
 */
export async function runAb(n: number): Promise<{ old_cpu_ms_per_host: number[]; new_cpu_ms_per_host: number[] }> {
  const grpc = await import('@grpc/grpc-js');
  const { readFileSync, mkdtempSync: mk } = await import('node:fs');
  const { AgentConnection } = await import('../coordinator/client.js');
  const { AgentClientCtor } = await import('../proto/load.js');
  const { agentIdentityCheck, KEEPALIVE_OPTIONS } = await import('../common/credentials.js');
  const { mapBounded } = await import('../coordinator/rollout/bounded.js');
  const dir = mk(join(tmpdir(), 'slipway-status-ab-'));
  const pki = await makePki(join(dir, 'pki'));
  const ac = await pki.agentCert('sim-agent', ['127.0.0.1']);
  const sims = await startSimAgents(n, { tls: { ca: pki.ca, cert: ac.cert, key: ac.key } });
  const tls = { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key };
  type Client = { status(): Promise<unknown>; close(): void };
  const before = (host: string): Client => {
    const creds = grpc.credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert), { checkServerIdentity: agentIdentityCheck(host) });
    const c = new AgentClientCtor(host, creds, { ...KEEPALIVE_OPTIONS, 'grpc.ssl_target_name_override': 'slipway-agent' }) as unknown as {
      Status(req: { app: string }, opts: { deadline: number }, cb: (e: Error | null) => void): void; close(): void;
    };
    return { status: () => new Promise<void>((res, rej) => c.Status({ app: 'hello' }, { deadline: Date.now() + 120_000 }, (e) => (e ? rej(e) : res()))), close: () => c.close() };
  };
  const now = (host: string): Client => { const c = new AgentConnection(host, tls, 120_000); return { status: () => c.status('hello'), close: () => c.close() }; };
  const out = { old_cpu_ms_per_host: [] as number[], new_cpu_ms_per_host: [] as number[] };
  try {
    for (let round = 0; round < 4; round++) {
      for (const kind of round % 2 ? ['new', 'old'] as const : ['old', 'new'] as const) {
        const c0 = process.cpuUsage();
        const clients = sims.addresses.map(kind === 'old' ? before : now);
        await mapBounded(clients, 64, (c) => c.status());
        const cpu = process.cpuUsage(c0);
        for (const c of clients) c.close();
        out[kind === 'old' ? 'old_cpu_ms_per_host' : 'new_cpu_ms_per_host'].push(r3((cpu.user + cpu.system) / 1000 / n));
        log(`${kind}: ${r3((cpu.user + cpu.system) / 1000 / n)} ms CPU per host`);
      }
    }
  } finally {
    await sims.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const USAGE = `usage: npm run bench -- status-scale [--runs N] [--hosts 50,200,1000] [--json]
       npm run bench -- status-scale --ab N   (the channel set-up before and after, alternating; see runAb)
       npm run bench -- status-scale --floor N   (the floor layer by layer: TLS handshake, resumed, Status over bare HTTP/2, through grpc-js; bench/tls-floor.ts)
       npm run bench -- status-scale --watch N [--rounds R]   ('status --watch': each round's CPU once the channels are up; bench/status-watch.ts)

'slipway status' of simulated agents (scripts/sim-agents.ts) at each fleet size:
wall, the CLI's CPU, CPU per host over 'slipway --version', hosts answered.
  --runs N      timed runs per size, after one untimed (default 3); figures are medians
  --hosts LIST  fleet sizes, comma-separated (default 50,200,1000; each 1 to 2000)
  --json        one JSON object on stdout (progress on stderr)`;

/** `npm run bench -- status-scale …`: 0 when it measured, 1 when it could not, 2 on bad usage. */
export async function runStatusScaleCli(argv: string[]): Promise<number> {
  const opts: StatusScaleOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); return 0; }
    if (a === '--json') { opts.json = true; continue; }
    const v = argv[i + 1];
    if (a === '--ab' && v && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 2000) {
      process.stdout.write(`${JSON.stringify(await runAb(Number(v)))}\n`);
      return 0;
    }
    if (a === '--floor' && v && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 2000) {
      process.stdout.write(`${JSON.stringify(await (await import('./tls-floor.js')).runTlsFloor(Number(v), log))}\n`);
      return 0;
    }
    if (a === '--watch' && v && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 2000) {
      const r = argv[i + 2] === '--rounds' && /^\d+$/.test(argv[i + 3] ?? '') ? Math.min(50, Math.max(2, Number(argv[i + 3]))) : 6;
      const rounds = await (await import('./status-watch.js')).runStatusWatch(Number(v), r, log);
      const later = rounds.slice(1).map((x) => x.cpu_per_host_ms).sort((x, y) => x - y);
      const median = later[Math.floor((later.length - 1) / 2)] ?? NaN;
      process.stdout.write(`${JSON.stringify({ hosts: Number(v), rounds, later_rounds_median_cpu_per_host_ms: median })}\n`);
      return 0;
    }
    if (a === '--runs' && v && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 50) { opts.runs = Number(v); i++; continue; }
    if (a === '--hosts' && v && /^\d+(,\d+)*$/.test(v) && v.split(',').every((n) => Number(n) >= 1 && Number(n) <= 2000)) { opts.hosts = v.split(',').map(Number); i++; continue; }
    process.stderr.write(`bad option ${a}${v && !v.startsWith('-') ? ` ${v}` : ''}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const r = await runStatusScaleBench(opts);
    if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}
