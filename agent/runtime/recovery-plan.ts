// What reconcile does with the processes it finds, decided without I/O: the
// rule for an interrupted activation, and for what runs beside the desired
// release. reconcile.ts carries it out.
//
// - A process that drains (state.json records its stop signal) is never the
//   serving one; it is left to drain until its own deadline.
// - The desired release's process, when one runs, serves; every other
//   process is ended after that (it is a leftover of an activation that
//   never got recorded).
// - When none runs, but the release an interrupted activation switched to
//   does (the agent was killed between the new version's start and the
//   state write, and the old one is gone), that one is kept if it is ready
//   already, and the swap is finished: the new version is ready, so finish
//   the swap; it is not, so stop it.
// - Otherwise the desired release is started, and what else runs is ended
//   only once it is up (so the socket is never left without a process that
//   serves for longer than a start of the app).
import type { PendingActivation, ReleaseId } from './state.js';

export interface FoundProcess extends ReleaseId {
  pid: number;
  startedAt: number;
  draining: boolean;
}

export interface RecoveryPlan {
  /** The desired release's process: it serves. */
  keep?: number;
  /** The interrupted activation's new process, to keep and record as desired if it is ready now. */
  finish?: number;
  /** Whether the desired release must be started (when `finish` is not ready, too). */
  start: boolean;
  /** Processes that neither drain nor serve: ended once what serves is settled. */
  end: number[];
  /** Why each of `end` is ended, for the log (by pid). */
  why: Record<number, string>;
  /** Processes that drain: left alone. */
  draining: number[];
}

export interface RecoveryInput {
  desired: ReleaseId | null;
  stopped: boolean;
  activating: PendingActivation | null;
}

export function planRecovery(s: RecoveryInput, found: readonly FoundProcess[]): RecoveryPlan {
  const draining = found.filter((p) => p.draining).map((p) => p.pid);
  // Oldest first: of two of the same release, the earlier one served before a restart onto it, which was never recorded.
  const others = found.filter((p) => !p.draining).sort((a, b) => a.startedAt - b.startedAt);
  const ending = (ps: FoundProcess[], reason: (p: FoundProcess) => string) =>
    ({ end: ps.map((p) => p.pid), why: Object.fromEntries(ps.map((p) => [p.pid, reason(p)])) });
  if (!s.desired || s.stopped) {
    const idle = s.desired ? 'the app is stopped by an operator' : 'the app was never activated on this host';
    return { start: false, ...ending(others, (p) => `${idle}, and ${p.version} (pid ${p.pid}) still ran`), draining };
  }
  const desired = s.desired;
  const notDesired = (p: FoundProcess) => `${p.version} is not the desired release ${desired.version}`;
  const keep = others.find((p) => p.sha256 === desired.sha256);
  if (keep) {
    return {
      keep: keep.pid, start: false, draining,
      ...ending(others.filter((p) => p !== keep), (p) => (p.sha256 === desired.sha256
        ? `a second process of ${desired.version}, started after pid ${keep.pid}, which serves (a restart that was never recorded)`
        : `${notDesired(p)}, which serves in pid ${keep.pid} (left by an activation that was never recorded)`)),
    };
  }
  const target = s.activating;
  const finish = target && target.sha256 !== desired.sha256 ? others.find((p) => p.sha256 === target.sha256) : undefined;
  if (finish) {
    return {
      finish: finish.pid, start: false, draining,
      ...ending(others.filter((p) => p !== finish), (p) => `${notDesired(p)} nor the interrupted activation's ${finish.version} (pid ${finish.pid})`),
    };
  }
  return { start: true, draining, ...ending(others, (p) => `${notDesired(p)}, which is started in its place`) };
}
