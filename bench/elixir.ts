// `npm run bench -- elixir [--runs N] [--json]`: the three ways to switch a
// BEAM release (examples/elixir-hello, two real `mix release`s) under paced
// HTTP load on one local agent: a relup (the upgrade command: same pid),
// a hot swap (a new BEAM beside the old one), a restart (stop, then start).
// For each: failed requests (target 0 for relup and hot), time from
// Activate to done as the agent records it (relup target ≤ 1 s), and the
// serving BEAM's RSS before and after. Versions alternate 0.1.0 ↔ 0.2.0, so
// half the relups are downgrades. A benchmark, not a test: it reports.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LocalAgent, killAppsUnder } from '../scripts/local-fleet.js';
import { AgentConnection } from '../coordinator/client.js';
import { Load, median } from '../test/helpers/load.js';
import { ROOT, git, slipway, freePort, processMemory, machine, withCleanup, type Cleanup } from './common.js';

interface Sample { failed: number; requests: number; seconds: number; rssBeforeMiB: number; rssAfterMiB: number; samePid: boolean }
interface Figures { strategy: string; runs: number; failed: number; requests: number; median_s: number; max_s: number; rss_before_mib: number; rss_after_mib: number; same_pid: string; target: string; result: string }

const USAGE = `usage: npm run bench -- elixir [--runs N] [--json]
  relup vs hot swap vs restart of examples/elixir-hello under paced load (needs Debian's elixir)
  --runs N   switches per strategy (default 6; versions alternate 0.1.0 <-> 0.2.0)
  --json     one JSON object on stdout`;

export async function runElixirBench(argv: string[]): Promise<number> {
  let runs = 6;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { console.log(USAGE); return 0; }
    if (a === '--json') json = true;
    else if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1 || runs > 100) { console.error(`--runs needs a whole number from 1 to 100\n\n${USAGE}`); return 2; }
    } else { console.error(`unknown option ${a}\n\n${USAGE}`); return 2; }
  }
  if (spawnSync('sh', ['-c', 'command -v mix']).status !== 0) {
    console.error('elixir is not installed (apt-get install elixir): nothing to measure');
    return 1;
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  try {
    const r = await withCleanup(log, (cleanup) => measure(runs, log, cleanup));
    if (json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else print(r);
    return 0;
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  }
}

async function measure(runs: number, log: (s: string) => void, cleanup: Cleanup) {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-elixir-'));
  cleanup.add(async () => rmSync(dir, { recursive: true, force: true }));
  const agent = new LocalAgent({ dir: join(dir, 'agent'), name: 'bench-elixir' });
  cleanup.add(async () => { await agent.stop('SIGKILL'); killAppsUnder(agent.stateDir); });
  await agent.start();
  const conn = new AgentConnection(agent.address, { insecure: true }, 15_000);
  cleanup.add(async () => conn.close());
  const app = join(dir, 'app');
  cpSync(join(ROOT, 'examples', 'elixir-hello'), app, { recursive: true, filter: (src) => !/\/(_build|release|deps)$/.test(src) });
  const port = await freePort();
  writeFileSync(join(app, 'slipway.yaml'), readFileSync(join(app, 'slipway.yaml'), 'utf8').replace('port: 4100', `port: ${port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  bench:\n    hosts: [${agent.address}]\n    tls: { insecure: true }\n`));
  git(app, 'init', '-q', '-b', 'main');
  for (const v of ['0.1.0', '0.2.0']) {
    writeFileSync(join(app, 'VERSION'), `${v}\n`);
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', v);
    git(app, 'tag', v);
    log(`building ${v} (mix release)…`);
    const b = await slipway(app, 'build', v);
    if (b.code !== 0) throw new Error(`build ${v} failed:\n${b.out}`);
  }
  const must = async (what: string, ...args: string[]) => {
    const r = await slipway(app, ...args);
    if (r.code !== 0) throw new Error(`${what} failed:\n${r.out}`);
  };
  await must('env set', 'env', 'bench', 'set', 'RELEASE_COOKIE=slipway-bench-cookie');
  await must('first deploy', 'deploy', 'bench', '0.1.0');
  const status = async () => (await conn.status('elixir_hello')).apps[0]!;
  let current = '0.1.0';
  const figures: Figures[] = [];
  for (const strategy of ['relup', 'hot', 'restart'] as const) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const next = current === '0.1.0' ? '0.2.0' : '0.1.0';
      const before = await status();
      const rssBefore = processMemory(before.pid).rss_kib / 1024;
      const load = new Load({ host: '127.0.0.1', port, keepAliveClients: 2, freshClients: 2, intervalMs: 20, maxDurationMs: 180_000 }).start();
      await new Promise((r) => setTimeout(r, 1000));
      const args = strategy === 'relup' ? [] : ['--strategy', strategy];
      const d = await slipway(app, 'deploy', 'bench', next, ...args);
      await new Promise((r) => setTimeout(r, 1000));
      const s = await load.stop();
      if (d.code !== 0) throw new Error(`${strategy} to ${next} failed:\n${d.out}`);
      const after = await status();
      const seconds = Number(/ in ([\d.]+) s/.exec(after.last_activation?.message ?? '')?.[1] ?? NaN);
      samples.push({ failed: s.failed, requests: s.requests, seconds, rssBeforeMiB: rssBefore, rssAfterMiB: processMemory(after.pid).rss_kib / 1024, samePid: after.pid === before.pid });
      log(`${strategy} ${current} → ${next}: ${seconds.toFixed(2)} s, ${s.failed} failed of ${s.requests}, pid ${before.pid} → ${after.pid}`);
      current = next;
    }
    const secs = samples.map((x) => x.seconds);
    const failed = samples.reduce((a, x) => a + x.failed, 0);
    const med = median(secs);
    const target = strategy === 'relup' ? '0 failed, ≤ 1 s' : strategy === 'hot' ? '0 failed' : '—';
    const ok = strategy === 'restart' || (failed === 0 && (strategy !== 'relup' || med <= 1));
    figures.push({
      strategy, runs, failed, requests: samples.reduce((a, x) => a + x.requests, 0), median_s: med, max_s: Math.max(...secs),
      rss_before_mib: median(samples.map((x) => x.rssBeforeMiB)), rss_after_mib: median(samples.map((x) => x.rssAfterMiB)),
      same_pid: `${samples.filter((x) => x.samePid).length}/${runs}`, target, result: strategy === 'restart' ? '—' : ok ? 'PASS' : 'MISS',
    });
  }
  return { date: new Date().toISOString(), machine: machine(), figures };
}

function print(r: Awaited<ReturnType<typeof measure>>): void {
  const m = r.machine;
  console.log(`\nelixir benchmark, ${r.date.slice(0, 10)}, ${m.cpus} cores (${m.cpu_model}), ${m.memory_gib} GiB, load ${m.load_1min.toFixed(1)}`);
  const rows = [['strategy', 'runs', 'failed/requests', 'Activate→done median (max)', 'RSS before → after (MiB)', 'same pid', 'target', 'result'],
    ...r.figures.map((f) => [f.strategy, String(f.runs), `${f.failed}/${f.requests}`, `${f.median_s.toFixed(2)} s (${f.max_s.toFixed(2)} s)`,
      `${f.rss_before_mib.toFixed(1)} → ${f.rss_after_mib.toFixed(1)}`, f.same_pid, f.target, f.result])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}
