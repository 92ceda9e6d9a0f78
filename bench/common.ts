// What the benchmarks share: child processes, git, polling, free ports,
// clean-up on success, error and Ctrl-C, hello app repos built by the real
// CLI, process memory from /proc, PM2 with a private PM2_HOME, and the
// PASS/MISS table. (test/helpers/env.ts's makeAppRepo is not used: compiled
// into dist/, its repo root resolves to dist/, which has no examples/.)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { CLI_BIN } from '../scripts/local-fleet.js';
import { appEnvironment } from '../agent/runtime/app-env.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repo root, from bench/ (tsx) and from dist/bench/. */
export const ROOT = here.includes(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
export const HELLO = join(ROOT, 'examples', 'hello');
export const PM2_BIN = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', (err) => resolve({ code: -1, out: err.message }));
    child.on('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}

export function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=slipway bench', '-c', 'user.email=bench@slipway.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try { if (await fn()) return; } catch { /* not yet */ }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function getJson(host: string, port: number, path = '/version'): Promise<{ version: string; pid: number }> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => { try { resolve(JSON.parse(body) as { version: string; pid: number }); } catch (err) { reject(err as Error); } });
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  });
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Everything started, so that all of it stops on success, error and Ctrl-C (last added, first stopped). */
export class Cleanup {
  readonly stops: (() => Promise<void> | void)[] = [];
  constructor(private readonly log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)) {}
  add(fn: () => Promise<void> | void): void { this.stops.unshift(fn); }
  async all(): Promise<void> {
    const fns = this.stops.splice(0);
    for (const fn of fns) { try { await fn(); } catch (err) { this.log(`cleanup: ${(err as Error).message}`); } }
  }
}

/**
 * Runs fn with a Cleanup that runs at the end, on error, and on SIGINT or
 * SIGTERM (then the process exits 130 / 143 once everything is stopped).
 */
export async function withCleanup<T>(log: (s: string) => void, fn: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup(log);
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping everything the bench started…`);
    void cleanup.all().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(cleanup);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup.all();
  }
}

export interface Machine { cpus: number; cpu_model: string; memory_gib: number; node: string; platform: string; load_1min: number }

export function machine(): Machine {
  const cpu = cpus();
  return {
    cpus: cpu.length, cpu_model: cpu[0]?.model ?? '?', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version,
    platform: `${process.platform} ${process.arch}`, load_1min: Math.round(loadavg()[0]! * 10) / 10,
  };
}

/** The environment the agent gives an app (agent/runtime/app-env.ts: PATH, locale, HOME, …), for apps the bench starts itself. */
export function appBaseEnv(): Promise<Record<string, string>> {
  return appEnvironment({}, '/nonexistent/shared/env');
}

/**
 * A git repo of examples/hello under `dir`, with its app name, port, an
 * environment `envName` of the given hosts, and optional run.restart,
 * tagged VERSION and built by the real CLI. Returns the repo's dir.
 */
export async function helloRepo(dir: string, o: { app: string; port: number; hosts: string[]; envName?: string; restart?: string; version?: string; appBind?: string }): Promise<string> {
  cpSync(HELLO, dir, { recursive: true });
  const env = o.envName ?? 'bench';
  let yaml = readFileSync(join(dir, 'slipway.yaml'), 'utf8')
    .replace(/^app: hello\b/m, `app: ${o.app}`)
    .replace(/port: 4000/, `port: ${o.port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  ${env}:\n    hosts: [${o.hosts.join(', ')}]\n    tls: { insecure: true }\n`);
  if (o.restart) yaml = yaml.replace(/^ {2}# restart: .*$/m, `  restart: ${o.restart}`);
  if (!yaml.includes(`app: ${o.app}`) || (o.restart && !yaml.includes(`restart: ${o.restart}`))) throw new Error('examples/hello/slipway.yaml changed: cannot set app or restart');
  writeFileSync(join(dir, 'slipway.yaml'), yaml);
  const version = o.version ?? '1.0.0';
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  pkg.version = version;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', `release ${version}`);
  git(dir, 'tag', version);
  const b = await slipway(dir, 'build', version);
  if (b.code !== 0) throw new Error(`slipway build ${version} of ${o.app} failed:\n${b.out}`);
  return dir;
}

/** The real CLI (dist/coordinator/cli.js) in `cwd`, NO_COLOR. */
export function slipway(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return run(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
}

export interface Memory { pss_kib: number; rss_kib: number }

/** PSS and RSS of one process from /proc/<pid>/smaps_rollup (Linux). */
export function processMemory(pid: number): Memory {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { pss_kib: field('Pss'), rss_kib: field('Rss') };
}

export function sumMemory(ms: Memory[]): Memory {
  return ms.reduce((a, m) => ({ pss_kib: a.pss_kib + m.pss_kib, rss_kib: a.rss_kib + m.rss_kib }), { pss_kib: 0, rss_kib: 0 });
}

export const mib = (kib: number) => (kib / 1024).toFixed(1);

/**
 * PM2 with its own PM2_HOME under `home` and the given environment for the
 * daemon (its apps inherit it). `kill()` stops the daemon and its apps; it
 * falls back to SIGKILL of the daemon's pid and of `extraPids`.
 */
export function pm2(home: string, env: Record<string, string>) {
  const fullEnv = { ...env, PM2_HOME: home, PM2_DISCRETE_MODE: 'true', PM2_SILENT: 'true' };
  const cmd = (...args: string[]) => run(process.execPath, [PM2_BIN, ...args], { env: fullEnv });
  const daemonPid = (): number | undefined => {
    try { return Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim()) || undefined; } catch { return undefined; }
  };
  return {
    cmd,
    daemonPid,
    async kill(extraPids: number[] = []): Promise<void> {
      const pid = daemonPid();
      await cmd('kill');
      for (const p of [...(pid ? [pid] : []), ...extraPids]) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}

export type Result = 'PASS' | 'MISS';
export const pass = (ok: boolean): Result => (ok ? 'PASS' : 'MISS');

/** Prints rows as aligned columns, a rule under the first. */
export function printColumns(rows: string[][], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const [i, row] of rows.entries()) {
    out(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
    if (i === 0) out(widths.map((n) => '-'.repeat(n)).join('  '));
  }
}

/** A repo whose environment `scale` lists the hosts, with mTLS. */
export function writeScaleConfig(dir: string, hosts: string[], tls: string): void {
  writeFileSync(join(dir, 'slipway.yaml'), [
    'app: hello',
    'build: { include: [server.js] }',
    'run: { command: [node, server.js] }',
    'environments:',
    '  scale:',
    `    hosts: [${hosts.join(', ')}]`,
    `    tls: ${tls}`,
    '',
  ].join('\n'));
}
