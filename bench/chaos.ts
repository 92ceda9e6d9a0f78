// `npm run chaos -- [--kills N] [--seconds S] [--seed X] [--rate R] [--json] [--out FILE]`:
// the fault-injection run (test/helpers/chaos/): one real agent and its
// supervising process, examples/hello under paced load, and N rounds that
// each SIGKILL the agent or the supervising process at a named step of a
// deploy, rollback, restart, env set or prune (or at a random moment), bring
// the agent back, run the operation again and check the invariants. It
// prints a line per round, the evidence of every violation, and a table per
// step. A benchmark, not a test: it exits 0 when it measured (violations or
// not), 1 when it could not measure, 2 on bad usage.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomPlan } from '../test/helpers/chaos/plan.js';
import { runChaos, type ChaosResult } from '../test/helpers/chaos/run.js';
import { stepTable } from '../test/helpers/chaos/report.js';

const USAGE = `usage: npm run chaos -- [options]
       node dist/bench/run.js chaos [options]

options:
  --kills N     rounds (each one kill, unless its step never comes), default 300
  --seconds S   stop starting rounds after S seconds, default 1200
  --seed X      the plan's and the delays' seed (printed; the same seed gives the same plan)
  --rate R      requests per second of the load, default 100
  --json        print the result (every round) as one JSON object on stdout
  --out FILE    also write that JSON object to FILE
  --keep        keep the temp dir (agent log, state dir) for a look afterwards
  -h, --help    this text`;

interface Args { kills: number; seconds: number; seed: number; rate: number; json: boolean; out?: string; keep: boolean }

export function parseChaosArgs(argv: string[]): Args | string {
  const a: Args = { kills: 300, seconds: 1200, seed: Math.floor(Math.random() * 2 ** 31), rate: 100, json: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i]);
    const name = arg.replace(/=.*$/, '');
    if (arg === '--json') a.json = true;
    else if (arg === '--keep') a.keep = true;
    else if (name === '--out') {
      const v = value();
      if (!v) return '--out needs a file';
      a.out = v;
    } else if (['--kills', '--seconds', '--seed', '--rate'].includes(name)) {
      const v = value();
      const n = Number(v);
      const [min, max] = name === '--seed' ? [0, 2 ** 31] : name === '--rate' ? [10, 1000] : name === '--kills' ? [1, 100_000] : [10, 24 * 3600];
      if (!v || !Number.isInteger(n) || n < min! || n > max!) return `${name} needs a whole number from ${min} to ${max}, not ${v ?? 'nothing'}`;
      if (name === '--kills') a.kills = n; else if (name === '--seconds') a.seconds = n; else if (name === '--seed') a.seed = n; else a.rate = n;
    } else return `unknown option ${arg}`;
  }
  return a;
}

function printHuman(r: ChaosResult): void {
  const s = r.summary;
  const out = (l: string) => process.stdout.write(`${l}\n`);
  out('');
  out(`chaos run, ${r.date.slice(0, 10)}, seed ${r.seed}: ${s.rounds} rounds, ${s.kills} kills (${s.misses} missed steps) in ${r.seconds} s; ` +
    `${r.machine.cpus} cores (${r.machine.cpu_model}), Node ${r.machine.node}; load average ${r.machine.load_1min.start.toFixed(1)} → ${r.machine.load_1min.end.toFixed(1)}`);
  out(`load: ${r.load.requests} requests at ${r.load.rate} req/s, ${r.load.failed} failed in all (${s.failedOnAgentKills} in agent-kill rounds, ${s.failedOnSupervisorKills} in supervisor-kill rounds)`);
  out(`longest time without an answer: ${s.maxGapAgentMs} ms (agent kills), ${s.maxGapSupervisorMs} ms (supervisor kills); invariant violations: ${s.violations}`);
  out('');
  for (const l of stepTable(r.steps)) out(l);
  if (r.violations.length) {
    out('');
    out('violations, by kind:');
    for (const v of r.violations) {
      out(`  ${v.count}× ${v.kind}`);
      out(`      at ${Object.entries(v.where).map(([w, n]) => `${w} ${n}×`).join(', ')}; e.g. ${v.example}`);
    }
  }
}

export async function runChaosBench(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const a = parseChaosArgs(argv);
  if (typeof a === 'string') {
    process.stderr.write(`${a}\n\n${USAGE}\n`);
    return 2;
  }
  const base = mkdtempSync(join(tmpdir(), 'slipway-chaos-'));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    log('interrupted: the round under way ends, then everything stops (Ctrl-C again to leave at once)');
  };
  process.on('SIGINT', onSignal);
  try {
    const result = await runChaos({ base, seed: a.seed, plan: randomPlan(a.seed, a.kills), seconds: a.seconds, rate: a.rate, log, stop: () => stopping });
    if (a.out) writeFileSync(a.out, `${JSON.stringify(result, null, 1)}\n`);
    if (a.json) process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
    else printHuman(result);
    if (!a.keep) rmSync(base, { recursive: true, force: true });
    else log(`kept ${base} (agent.log, agent/state)`);
    return 0;
  } catch (err) {
    log(`chaos failed: ${err instanceof Error ? err.stack ?? err.message : String(err)} (kept ${base})`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
