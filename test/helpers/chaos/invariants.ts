// The invariants checked after every kill, once the agent has recovered and
// the operation was run again. Each broken one is a violation: one line
// that says what is wrong, with the evidence (paths, pids, versions).
// Conditions that take time (a version still draining, leftovers the
// recovery removes) are polled up to generous deadlines, never slept for.
import type { Outcome } from '../load.js';
import { appProcesses, currentRelease, readStateFiles, sharedEnv, supervisedBy, supervisorProcesses, tempFiles, versionOf, type HistoryLine } from './host-view.js';

/** The app's line of `slipway --json status` (hosts[0].app). */
export interface StatusApp {
  state: string;
  state_reason?: string;
  version: string;
  desired_version: string;
  pid: number;
}

export interface InvariantContext {
  stateDir: string;
  app: string;
  /** `slipway --json status ENV` for the one host: its app, or why not. */
  status(): Promise<StatusApp | string>;
  outcomes: readonly Outcome[];
  /** How long a version told to stop may drain (the manifest's stop.drain_timeout_s), plus slack. */
  drainMs: number;
  /** How long the agent may take to remove temp leftovers. */
  leftoversMs: number;
}

export interface Expectation {
  /** The version the host must run. */
  version: string;
  /** A line shared/env must hold (env set). */
  envLine?: string;
  /** performance.now() after which the app must have answered from the serving pid. */
  answersSince: number;
  /**
   * Whether each history agreed with what ran before the round (historyAgrees):
   * one that did not is left unchecked, its round already reported it.
   */
  historyBefore: { state: boolean; host: boolean };
}

async function poll<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, deadlineMs: number): Promise<T> {
  const until = performance.now() + deadlineMs;
  let v = await fn();
  while (!ok(v) && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}

const SIGNAL_GRACE_MS = 1000;

/** Host-history actions that are not activations. */
const NOT_ACTIVATIONS = new Set(['task', 'env', 'lock', 'unlock', 'stop']);

/** The newest activation in the host's history (history.jsonl). */
export function lastActivation(history: readonly HistoryLine[]): HistoryLine | undefined {
  return [...history].reverse().find((h) => h.to_version && !NOT_ACTIVATIONS.has(h.action));
}

/** Whether the newest activation in state.json's history, and in the host's, is `version` done. */
export function historyAgrees(stateDir: string, app: string, version: string): { state: boolean; host: boolean } {
  const files = readStateFiles(stateDir, app);
  const rec = files.state?.history.at(-1);
  const last = lastActivation(files.history);
  return {
    state: rec?.result === 'done' && rec.version === version,
    host: last?.result === 'done' && last.to_version === version,
  };
}

export async function checkInvariants(ctx: InvariantContext, exp: Expectation): Promise<string[]> {
  const v: string[] = [];
  const { stateDir, app } = ctx;

  // The state files parse, and say the expected version is desired.
  const files = readStateFiles(stateDir, app);
  v.push(...files.problems.map((p) => `state file: ${p}`));
  if (files.state) {
    if (files.state.desired?.version !== exp.version) v.push(`state.json: desired is ${files.state.desired?.version ?? 'none'}, not ${exp.version}`);
    if (files.state.stopped) v.push('state.json: the app is marked stopped');
  }

  // `current` names a complete release: the one expected.
  const cur = currentRelease(stateDir, app);
  if (cur.problem) v.push(cur.problem);
  else if (cur.release && versionOf(cur.release) !== exp.version) v.push(`current points at releases/${cur.release}, not at ${exp.version}`);

  // The supervising process's view.
  const status = await poll(() => ctx.status(), (s) => typeof s !== 'string' && s.state === 'running', 10_000);
  if (typeof status === 'string') {
    v.push(`slipway status failed: ${status}`);
  } else {
    if (status.state !== 'running') v.push(`status: ${status.state}${status.state_reason ? ` (${status.state_reason})` : ''}, not running`);
    if (status.version !== exp.version || status.desired_version !== exp.version) v.push(`status: running ${status.version || 'nothing'}, desired ${status.desired_version || 'nothing'}; expected ${exp.version}`);
  }
  const servingPid = typeof status === 'string' ? 0 : status.pid;

  // Exactly one version runs once the ones told to stop have drained, under exactly one supervising process (and at most one holder).
  const procs = await poll(() => ({ apps: appProcesses(stateDir, app), sups: supervisorProcesses(stateDir), holders: supervisorProcesses(stateDir, true) }),
    (p) => p.apps.length === 1 && p.sups.length === 1 && p.holders.length <= 1, ctx.drainMs);
  const list = procs.apps.map((p) => `pid ${p.pid} (${p.release}, parent ${p.ppid})`).join(', ') || 'none';
  if (procs.sups.length !== 1) v.push(`${procs.sups.length} supervising processes (${procs.sups.join(', ')}), not 1`);
  if (procs.holders.length > 1) v.push(`${procs.holders.length} holders of the supervising process (${procs.holders.join(', ')}), not 1`);
  if (procs.apps.length !== 1) {
    v.push(`${procs.apps.length} app processes ${ctx.drainMs / 1000} s after the re-run, not 1: ${list}`);
  } else {
    const [p] = procs.apps;
    if (servingPid && p!.pid !== servingPid) v.push(`the app process is ${list}, but status says pid ${servingPid}`);
    if (versionOf(p!.release) !== exp.version) v.push(`the app process runs ${p!.release}, not ${exp.version}`);
    if (procs.sups.length === 1 && !supervisedBy(p!.pid, procs.sups[0]!)) v.push(`the app process ${p!.pid} is neither a child of the supervising process ${procs.sups[0]} nor older than it (adopted); parent ${p!.ppid}`);
  }

  // The serving process answers.
  if (servingPid) {
    const answered = await poll(() => ctx.outcomes.some((o) => o.ok && o.pid === servingPid && o.end > exp.answersSince), (x) => x, 10_000);
    if (!answered) v.push(`no answer from the serving pid ${servingPid} within 10 s of the re-run`);
  }

  // No temp leftovers anywhere under the state dir once recovered.
  const temps = await poll(() => tempFiles(stateDir), (t) => t.length === 0, ctx.leftoversMs);
  if (temps.length > 0) v.push(`temp leftovers ${ctx.leftoversMs / 1000} s after recovery: ${temps.join(', ')}`);

  // The history says what runs: the newest activation, in state.json and in the host's history.
  const after = readStateFiles(stateDir, app);
  const rec = after.state?.history.at(-1);
  if (exp.historyBefore.state && (!rec || rec.result !== 'done' || rec.version !== exp.version)) {
    v.push(`state.json history: the newest activation is ${rec ? `${rec.version} ${rec.result} (${rec.reason}: ${rec.message})` : 'none'}, but ${exp.version} runs`);
  }
  const last = lastActivation(after.history);
  if (exp.historyBefore.host && (!last || last.result !== 'done' || last.to_version !== exp.version)) {
    v.push(`history.jsonl: the newest activation is ${last ? `${last.action} to ${last.to_version} ${last.result} (${last.message})` : 'none'}, but ${exp.version} runs`);
  }

  if (exp.envLine) {
    if (!sharedEnv(stateDir, app).split('\n').includes(exp.envLine)) v.push(`shared/env does not hold ${exp.envLine}`);
  }
  return v;
}

/**
 * Right after recovery (`since`: performance.now() when the agent reported
 * the app running again), before anything is run again: the process the
 * agent names as serving is not one that was told to stop before the kill (a
 * draining version never serves again); a version told to stop is draining
 * (hello answers "Connection: close" once it got its stop signal, so an
 * answer without it means the signal never came); and the host settles by
 * itself on exactly one process once the others have drained.
 */
export async function checkRecovery(ctx: InvariantContext, toldToStop: readonly number[], since: number): Promise<string[]> {
  const v: string[] = [];
  const status = await ctx.status();
  if (typeof status === 'string') return [`after recovery, slipway status failed: ${status}`];
  if (toldToStop.includes(status.pid)) v.push(`after recovery the agent serves with pid ${status.pid}, which had been told to stop (draining) before the kill`);
  const procs = await poll(() => appProcesses(ctx.stateDir, ctx.app), (p) => p.length === 1, ctx.drainMs);
  const list = procs.map((p) => `pid ${p.pid} (${p.release})`).join(', ') || 'none';
  if (procs.length !== 1) v.push(`after recovery, ${procs.length} app processes ${ctx.drainMs / 1000} s on, not 1: ${list} (status names pid ${status.pid})`);
  else if (procs[0]!.pid !== status.pid) v.push(`after recovery the one app process is ${list}, but status names pid ${status.pid}`);
  // A stop sent through a supervising process's successor may come a few hundred ms late: a second's grace.
  for (const pid of toldToStop) {
    const open = ctx.outcomes.filter((o) => o.ok && o.pid === pid && o.start > since + SIGNAL_GRACE_MS && !o.connectionClose);
    if (open.length) {
      const last = Math.max(...open.map((o) => o.end));
      v.push(`pid ${pid}, told to stop before the kill, still served ${open.length} requests as if it had never been signalled (no "Connection: close") until ${Math.round(last - since)} ms after recovery`);
    }
  }
  return v;
}

/**
 * After a kill that came once the new version had been started: the
 * recovered agent (or, for a supervisor kill, the agent itself) has recorded
 * what became of that activation, in state.json's history and the host's,
 * before anything is run again.
 */
export function checkInterruptedRecorded(stateDir: string, app: string, since: Date, version: string): string[] {
  const files = readStateFiles(stateDir, app);
  const v: string[] = [];
  const inState = files.state?.history.some((r) => Date.parse(r.at) >= since.getTime() && r.version === version);
  if (!inState) v.push(`state.json history has no record of the interrupted activation of ${version} (begun ${since.toISOString()})`);
  const inHistory = files.history.some((h) => Date.parse(h.at) >= since.getTime() && h.to_version === version && !NOT_ACTIVATIONS.has(h.action));
  if (!inHistory) v.push(`history.jsonl has no entry for the interrupted activation of ${version} (begun ${since.toISOString()})`);
  return v;
}
