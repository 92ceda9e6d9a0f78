// The evidence kept with a round that broke an invariant or lost requests:
// the agent's log lines of the round that tell what it did (its warnings and
// errors, every app state change, what it stopped, re-attached to or
// removed), shortened to one line each, and the tails of the CLI's output.
import type { CliExit } from './cli-run.js';

const TELLING = /app state|stopping|re-attached|removed a leftover|activation|reconcile|supervising|not ready|crash|ended an app|desired|rolling back/;

/** One agent JSON log line as "HH:MM:SS.mmm LEVEL msg {fields}", or undefined when it tells nothing. */
export function shortLogLine(line: string): string | undefined {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trim() ? `(not JSON) ${line.slice(0, 200)}` : undefined;
  }
  const level = Number(rec.level);
  const msg = String(rec.msg ?? '');
  if (level < 40 && !TELLING.test(msg)) return undefined;
  const { level: _l, time, svc: _s, msg: _m, pid: _p, hostname: _h, ...rest } = rec;
  const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest).slice(0, 300)}` : '';
  const name = level >= 50 ? 'ERROR' : level >= 40 ? 'WARN' : 'INFO';
  return `${String(time ?? '').slice(11, 23)} ${name} ${msg}${fields}`;
}

export function roundEvidence(agentLines: readonly string[], op: CliExit | undefined, rerunTail: readonly string[] | undefined): string[] {
  const out = agentLines.map(shortLogLine).filter((l): l is string => l !== undefined).slice(-40).map((l) => `agent: ${l}`);
  if (op) out.push(...op.output.split('\n').filter(Boolean).slice(-8).map((l) => `cli: ${l}`));
  if (rerunTail) out.push(...rerunTail.map((l) => `re-run: ${l}`));
  return out;
}
