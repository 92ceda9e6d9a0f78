// How the app answered during one window of a run (one round: from the start
// of its operation until its invariants were checked), from the load's
// recorded outcomes (test/helpers/load.ts). Pure.
import type { Outcome } from '../load.js';

export interface WindowStats {
  requests: number;
  failed: number;
  /** The longest time within the window in which no request got a successful answer. */
  maxGapMs: number;
  /** When that gap began, in ms from the window's start. */
  maxGapAtMs: number;
  /** The first few failures: when (ms from the window's start) and why. */
  failures: { atMs: number; error: string; pid?: number }[];
}

/**
 * Requests that started in [from, to), and the longest stretch of [from, to)
 * without a successful answer ending in it (performance.now() times).
 */
export function windowStats(outcomes: readonly Outcome[], from: number, to: number): WindowStats {
  const mine = outcomes.filter((o) => o.start >= from && o.start < to);
  const failedOnes = mine.filter((o) => !o.ok);
  const answers = outcomes.filter((o) => o.ok && o.end >= from && o.end < to).map((o) => o.end).sort((a, b) => a - b);
  let maxGapMs = 0;
  let maxGapAtMs = 0;
  let prev = from;
  for (const t of [...answers, to]) {
    if (t - prev > maxGapMs) {
      maxGapMs = t - prev;
      maxGapAtMs = prev - from;
    }
    prev = t;
  }
  return {
    requests: mine.length, failed: failedOnes.length, maxGapMs: Math.round(maxGapMs), maxGapAtMs: Math.round(maxGapAtMs),
    failures: failedOnes.slice(0, 5).map((o) => ({ atMs: Math.round(o.start - from), error: o.error ?? `status ${o.status}`, pid: o.pid })),
  };
}

