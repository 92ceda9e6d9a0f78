// The restart decision after a crash, as a pure function of facts (design's
// run.restart). It only decides; the runtime acts. Defaults follow PM2's
// exponential backoff: 100 ms × 1.5 per crash, capped at 15 s, reset after
// 30 s up; more than max_restarts crashes within window_s is a crash loop.
import type { RunSpec } from '../../common/manifest.js';

export type RestartPolicy = RunSpec['restart'];

export interface CrashHistory {
  /** Times (ms) of recent crashes, oldest first. */
  crashes: number[];
  /** Crashes in a row without reset_after_s of uptime between them. */
  consecutive: number;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; history: CrashHistory; reason: string }
  | { action: 'crashloop'; history: CrashHistory; reason: string };

export function emptyHistory(): CrashHistory {
  return { crashes: [], consecutive: 0 };
}

export function decideRestart(policy: RestartPolicy, history: CrashHistory, uptimeMs: number, now: number): RestartDecision {
  const windowMs = policy.window_s * 1000;
  const crashes = [...history.crashes.filter((t) => now - t < windowMs), now];
  const consecutive = uptimeMs >= policy.reset_after_s * 1000 ? 1 : history.consecutive + 1;
  const next: CrashHistory = { crashes, consecutive };
  if (crashes.length > policy.max_restarts) {
    return { action: 'crashloop', history: next, reason: `${crashes.length} crashes within ${policy.window_s} s (run.restart.max_restarts is ${policy.max_restarts})` };
  }
  if (uptimeMs > 1000) {
    return { action: 'restart', delayMs: 0, history: next, reason: 'crashed after more than a second up: restarting at once' };
  }
  const delayMs = Math.min(policy.backoff_max_ms, Math.round(policy.backoff_initial_ms * 1.5 ** (consecutive - 1)));
  return { action: 'restart', delayMs, history: next, reason: `crashed ${consecutive} time(s) in a row: restarting in ${delayMs} ms` };
}
