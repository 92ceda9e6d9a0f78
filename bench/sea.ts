// The agent as a single executable (scripts/build-sea.mjs) against the
// bundled agent on Node (dist/bin/slipway-agent.mjs): size on disk, start
// time (spawn to the 'agent listening' log line) and idle memory (RSS and
// PSS of the agent, its supervising process and the holder, after the agent
// has been idle a while). Runs alternate between the two, so that a machine
// that gets busier during the run weighs on both alike; medians are reported.
//   npm run bench -- sea [--runs N] [--idle-s S] [--json]
// Both get NODE_OPTIONS=--max-semi-space-size=1, as the systemd unit sets it.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { killAppsUnder, supervisorPid, holderPid } from '../scripts/local-fleet.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
const BUNDLE = join(ROOT, 'dist', 'bin', 'slipway-agent.mjs');
const SEA = join(ROOT, 'dist', 'sea', 'slipway-agent');

interface Sample { startMs: number; rssKiB: number; pssKiB: number; agentRssKiB: number; agentPssKiB: number }

function memOf(pid: number | undefined): { rss: number; pss: number } {
  if (!pid) return { rss: 0, pss: 0 };
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
    return { rss: field('Rss'), pss: field('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

async function once(kind: 'sea' | 'node', idleS: number): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), `slipway-bench-sea-${kind}-`));
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, ['listen: 127.0.0.1:0', 'http: 127.0.0.1:0', `state_dir: ${join(dir, 'state')}`, 'tls: { insecure: true }', 'allow_unsigned: true', ''].join('\n'));
  const env = { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1' };
  const t0 = performance.now();
  const child = kind === 'sea'
    ? spawn(SEA, ['--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BUNDLE, '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no 'agent listening' within 30 s`)), 30_000);
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l.includes('"agent listening"')) { clearTimeout(timer); resolve(performance.now() - t0); }
      });
      child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`${kind}: exited ${c}`)); });
    });
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const state = join(dir, 'state');
    const a = memOf(child.pid);
    const s = memOf(supervisorPid(state));
    const h = memOf(holderPid(state));
    return { startMs, rssKiB: a.rss + s.rss + h.rss, pssKiB: a.pss + s.pss + h.pss, agentRssKiB: a.rss, agentPssKiB: a.pss };
  } finally {
    child.kill('SIGKILL');
    killAppsUnder(join(dir, 'state'));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runSeaBench(argv: string[]): Promise<number> {
  const opt = (n: string, d: number) => { const i = argv.indexOf(n); return i >= 0 ? Number(argv[i + 1]) : d; };
  const runs = opt('--runs', 5);
  const idleS = opt('--idle-s', 10);
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: npm run build`);
  if (!existsSync(SEA)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const bundleBytes = readdirSync(dirname(BUNDLE)).filter((f) => /^(slipway-agent|supervisor|unpack-worker|hash-worker)\.mjs$|^(slipway|health)\.json$/.test(f))
    .reduce((n, f) => n + statSync(join(dirname(BUNDLE), f)).size, 0);
  const nodeBytes = statSync(process.execPath).size;
  const seaBytes = statSync(SEA).size;
  const samples: Record<'sea' | 'node', Sample[]> = { sea: [], node: [] };
  for (let i = 0; i < runs; i++) {
    for (const kind of (i % 2 ? ['node', 'sea'] : ['sea', 'node']) as ('sea' | 'node')[]) samples[kind].push(await once(kind, idleS));
  }
  const sum = (k: 'sea' | 'node') => ({
    start_ms: median(samples[k].map((s) => s.startMs)),
    agent_rss_mib: median(samples[k].map((s) => s.agentRssKiB)) / 1024,
    agent_pss_mib: median(samples[k].map((s) => s.agentPssKiB)) / 1024,
    total_rss_mib: median(samples[k].map((s) => s.rssKiB)) / 1024,
    total_pss_mib: median(samples[k].map((s) => s.pssKiB)) / 1024,
  });
  const out = {
    runs, idle_s: idleS, node: process.version,
    size: { sea_mib: seaBytes / 2 ** 20, bundle_mib: bundleBytes / 2 ** 20, node_binary_mib: nodeBytes / 2 ** 20 },
    sea: sum('sea'), bundled_on_node: sum('node'),
  };
  if (argv.includes('--json')) {
    console.log(JSON.stringify(out, null, 2));
    return 0;
  }
  const f = (n: number) => n.toFixed(1);
  console.log(`agent: single executable vs bundle on node ${process.version}; ${runs} runs each, alternating; idle ${idleS} s; medians`);
  console.log(`size on disk: executable ${f(out.size.sea_mib)} MiB; bundle ${f(out.size.bundle_mib)} MiB + node ${f(out.size.node_binary_mib)} MiB`);
  for (const [name, s] of [['executable', out.sea], ['bundle on node', out.bundled_on_node]] as const) {
    console.log(`${name.padEnd(15)} start ${f(s.start_ms)} ms  agent RSS ${f(s.agent_rss_mib)} MiB PSS ${f(s.agent_pss_mib)} MiB  with supervisor+holder RSS ${f(s.total_rss_mib)} MiB PSS ${f(s.total_pss_mib)} MiB`);
  }
  return 0;
}
