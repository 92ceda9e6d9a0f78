// Runs a fault-injection plan on a fresh host (harness.ts) round by round
// (round.ts), logging one line per round and the evidence of every round
// that broke an invariant, until the plan is done or the time is up; then
// tears everything down and returns the results with their figures.
import { cpus, loadavg, totalmem } from 'node:os';
import { ChaosHost } from './harness.js';
import { runRound, type RoundResult } from './round.js';
import { figuresByStep, summarise, roundLine, violationKinds, type ChaosSummary, type StepFigures, type ViolationKind } from './report.js';
import type { Round } from './plan.js';

export interface ChaosRunOptions {
  base: string;
  seed: number;
  plan: readonly Round[];
  /** Stop starting rounds after this long (the round under way ends first). */
  seconds?: number;
  rate?: number;
  log: (line: string) => void;
  /** Asked before each round: true stops the run there (Ctrl-C). */
  stop?: () => boolean;
}

export interface ChaosResult {
  schema: 1;
  seed: number;
  date: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; node: string; load_1min: { start: number; end: number } };
  rate: number;
  seconds: number;
  /** All requests of the run, rounds and set-up in between. */
  load: { requests: number; failed: number; rate: number };
  summary: ChaosSummary;
  steps: StepFigures[];
  violations: ViolationKind[];
  rounds: RoundResult[];
}

export async function runChaos(o: ChaosRunOptions): Promise<ChaosResult> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const budgetS = o.seconds ?? Infinity;
  const maxSeconds = Math.min(budgetS === Infinity ? 24 * 3600 : budgetS + 900, 24 * 3600);
  o.log(`chaos: seed ${o.seed}, ${o.plan.length} rounds planned${o.seconds ? `, at most ${o.seconds} s` : ''}; setting up in ${o.base}`);
  const host = await ChaosHost.setUp({ base: o.base, rate: o.rate, maxSeconds });
  // Leaving at once (a second Ctrl-C): the agent, its supervising process and the app go too.
  const onExit = () => host.killSync();
  process.once('exit', onExit);
  const results: RoundResult[] = [];
  let summary;
  try {
    for (const round of o.plan) {
      if ((performance.now() - started) / 1000 >= budgetS || o.stop?.()) break;
      const r = await runRound(host, round);
      results.push(r);
      o.log(roundLine(r));
      for (const n of r.notes) o.log(`    note: ${n}`);
      for (const v of r.violations) o.log(`    violation: ${v}`);
      if (r.violations.length || r.failed) {
        for (const f of r.failures) o.log(`    failed request at +${f.atMs} ms: ${f.error}`);
        for (const e of r.evidence) o.log(`    ${e}`);
      }
    }
  } finally {
    summary = await host.tearDown();
    process.off('exit', onExit);
  }
  const cpu = cpus();
  return {
    schema: 1, seed: o.seed, date: new Date().toISOString(),
    machine: { cpus: cpu.length, cpu_model: cpu[0]?.model ?? '?', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, load_1min: { start: loadStart, end: loadavg()[0]! } },
    rate: o.rate ?? 100, seconds: Math.round((performance.now() - started) / 1000),
    load: { requests: summary.requests, failed: summary.failed, rate: Math.round(summary.rate) },
    summary: summarise(results), steps: figuresByStep(results), violations: violationKinds(results), rounds: results,
  };
}
