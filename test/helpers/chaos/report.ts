// The figures of a fault-injection run: per victim and step, how many kills
// (and misses: a step whose trigger never came), failed requests, the
// longest time without an answer, the slowest recovery and the invariant
// violations; a table for people and a JSON object for scripts. Pure.
import { STEPS, type Step, type Victim } from './plan.js';
import type { RoundResult } from './round.js';

export interface StepFigures {
  victim: Victim;
  step: Step;
  kills: number;
  misses: number;
  requests: number;
  failed: number;
  /** The longest gap of any round at this step, ms. */
  maxGapMs: number;
  /** The slowest recovery (kill → running its desired release, by the agent's account), ms. */
  maxRecoveryMs: number;
  /** Rounds with at least one violation, and the violations in all. */
  roundsViolating: number;
  violations: number;
}

export interface ChaosSummary {
  rounds: number;
  kills: number;
  misses: number;
  requests: number;
  failed: number;
  failedOnAgentKills: number;
  failedOnSupervisorKills: number;
  violations: number;
  maxGapAgentMs: number;
  maxGapSupervisorMs: number;
}

export function figuresByStep(results: readonly RoundResult[]): StepFigures[] {
  const out: StepFigures[] = [];
  for (const victim of ['agent', 'supervisor'] as const) {
    for (const step of STEPS) {
      const rs = results.filter((r) => r.round.victim === victim && r.round.step === step);
      if (rs.length === 0) continue;
      out.push({
        victim, step,
        kills: rs.filter((r) => r.hit).length,
        misses: rs.filter((r) => !r.hit).length,
        requests: sum(rs.map((r) => r.requests)),
        failed: sum(rs.map((r) => r.failed)),
        maxGapMs: Math.max(...rs.map((r) => r.maxGapMs)),
        maxRecoveryMs: Math.max(0, ...rs.map((r) => r.recoveryMs ?? 0)),
        roundsViolating: rs.filter((r) => r.violations.length > 0).length,
        violations: sum(rs.map((r) => r.violations.length)),
      });
    }
  }
  return out;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function summarise(results: readonly RoundResult[]): ChaosSummary {
  const by = (v: Victim) => results.filter((r) => r.round.victim === v);
  return {
    rounds: results.length,
    kills: results.filter((r) => r.hit).length,
    misses: results.filter((r) => !r.hit).length,
    requests: sum(results.map((r) => r.requests)),
    failed: sum(results.map((r) => r.failed)),
    failedOnAgentKills: sum(by('agent').map((r) => r.failed)),
    failedOnSupervisorKills: sum(by('supervisor').map((r) => r.failed)),
    violations: sum(results.map((r) => r.violations.length)),
    maxGapAgentMs: Math.max(0, ...by('agent').map((r) => r.maxGapMs)),
    maxGapSupervisorMs: Math.max(0, ...by('supervisor').map((r) => r.maxGapMs)),
  };
}

/** The per-step table as aligned text lines (also valid Markdown when `markdown`). */
export function stepTable(figures: readonly StepFigures[], markdown = false): string[] {
  const head = ['victim', 'step', 'kills', 'misses', 'requests', 'failed', 'max gap ms', 'max recovery ms', 'rounds violating', 'violations'];
  const rows = figures.map((f) => [f.victim, f.step, f.kills, f.misses, f.requests, f.failed, f.maxGapMs, f.maxRecoveryMs, f.roundsViolating, f.violations].map(String));
  if (markdown) {
    return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  }
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export interface ViolationKind {
  /** The violation with its versions, pids, times and counts replaced by placeholders. */
  kind: string;
  count: number;
  /** victim@step of the rounds it happened in, with how often. */
  where: Record<string, number>;
  example: string;
}

/** Violations grouped by what they say, most frequent first. */
export function violationKinds(results: readonly RoundResult[]): ViolationKind[] {
  const kinds = new Map<string, ViolationKind>();
  for (const r of results) {
    for (const v of r.violations) {
      const kind = v.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
        .replace(/\b\d+\.\d+\.\d+(-[0-9a-f]{12})?\b/g, '<version>')
        .replace(/\.tmp-[\w.]+?-\d+-[0-9a-f]+/g, '.tmp-<name>')
        .replace(/\b\d+(\.\d+)?\b/g, '<n>');
      const k = kinds.get(kind) ?? { kind, count: 0, where: {}, example: v };
      const at = `${r.round.victim}@${r.round.step}`;
      k.count++;
      k.where[at] = (k.where[at] ?? 0) + 1;
      kinds.set(kind, k);
    }
  }
  return [...kinds.values()].sort((a, b) => b.count - a.count);
}

/** One line per round, for the progress log. */
export function roundLine(r: RoundResult): string {
  const what = `#${r.round.n} ${r.round.victim} ${r.round.op}${r.round.fresh ? ' (new version)' : ''} @${r.round.step}+${r.round.delayMs}ms`;
  const kill = r.hit ? `killed at ${r.killedAtMs} ms` : 'MISSED (the step never came)';
  const land = r.landing ? ` [current ${r.landing.current ?? '?'}, desired ${r.landing.desired ?? '?'}, temps ${r.landing.temps.length}]` : '';
  return `${what} ${r.version.from}→${r.version.to}: ${kill}${land}; ${r.requests} req, ${r.failed} failed, max gap ${r.maxGapMs} ms` +
    `${r.recoveryMs !== undefined ? `, recovered in ${r.recoveryMs} ms` : ''}${r.rerun?.unlocked ? ', lease released by hand' : ''}; ` +
    `${r.violations.length ? `${r.violations.length} VIOLATION(S)` : 'invariants hold'}`;
}
