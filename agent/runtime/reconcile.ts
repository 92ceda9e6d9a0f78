// Reconcile, after an agent start and on the reconcile schedule: re-attach to
// what the supervising process still runs, end processes whose supervisor is
// gone (checked by start time, so a reused pid is never hit), remove temp
// leftovers, and bring the desired release up if it does not run. What it
// does with the processes it finds is recovery-plan.ts's rule: a draining
// version is never the serving one and drains on to its own deadline; an
// interrupted activation whose new version is ready is finished; the desired
// release is brought up before anything that serves is ended. A write that
// fails (a full disk) never stops what serves: it is logged, and the
// lifecycle still says what runs.
import { relative } from 'node:path';
import { swapSymlink, readlinkOrUndefined } from '../../common/atomic.js';
import { endRecordedProcess } from './process/proc.js';
import { planRecovery, type FoundProcess } from './recovery-plan.js';
import { afterActivation, afterFailure, afterRestart, type PendingActivation, type ProcessRecord } from './state.js';
import type { Drain, StopSpec } from './app-processes.js';
import type { AppHost } from './app-host.js';
import type { AppProcess } from './process/runner.js';
import type { Release } from '../storage/releases.js';

/** How a leftover whose release cannot be read is stopped. */
const FALLBACK_STOP = { signal: 'SIGTERM', drain_timeout_s: 10 } as const;

export async function reconcileApp(h: AppHost): Promise<void> {
  await h.releases.removeTempLeftovers(h.app);
  const recorded = h.persisted.processes;
  const supervised = await h.runner.attach(h.app);
  const known = new Set(supervised.map((p) => p.pid));
  await Promise.all(recorded.filter((rec) => !known.has(rec.pid)).map((rec) => endUnsupervised(h, rec)));
  const live = supervised.filter((p) => p.running());
  // What an in-place upgrade moved a process to, as state.json recorded it (the supervising process knows only what was started).
  for (const p of live) {
    const r = recorded.find((x) => x.pid === p.pid && x.start_ticks === p.startTicks);
    if (r?.started_as?.sha256 === p.sha256 && r.sha256 !== p.sha256) h.procs.upgraded(p, r);
  }
  const byPid = new Map(live.map((p) => [p.pid, p]));
  const found: FoundProcess[] = live.map((p) => ({
    pid: p.pid, ...h.procs.idOf(p), startedAt: p.startedAt.getTime(),
    draining: h.procs.isDraining(p) || recordedDrain(recorded, p) !== undefined,
  }));
  const plan = planRecovery(h.persisted, found);
  const why = (p: AppProcess) => plan.why[p.pid] ?? 'it is not the release that should run';
  // An activation state.json says is in progress was interrupted (this agent's own run one at a time, and not now).
  const interrupted = await journalRecordedSwap(h);
  const procs = (pids: number[]) => pids.flatMap((pid) => byPid.get(pid) ?? []);
  // Drains an earlier agent began run on to their own deadline.
  for (const p of procs(plan.draining)) {
    const d = recordedDrain(recorded, p);
    if (d) h.procs.resumeDrain(p, d);
  }
  const end = procs(plan.end);
  const desired = h.persisted.desired;
  if (!desired || h.persisted.stopped) {
    if (interrupted) await undoInterrupted(h, interrupted);
    await endAll(h, end, why);
    await trySave(h);
    await h.drive({ type: 'reconciled_idle', reason: desired ? 'stopped by an operator' : 'never activated' });
    return;
  }
  if (plan.finish !== undefined && interrupted) {
    const next = byPid.get(plan.finish) as AppProcess;
    if (await finishSwap(h, next, interrupted)) {
      await endAll(h, end, why);
      return;
    }
    plan.why[next.pid] = `the interrupted activation's ${interrupted.version} was not ready when the agent came back`;
    end.push(next);
  }
  if (interrupted) await undoInterrupted(h, interrupted);
  let release: Release;
  try {
    release = await h.releases.ensureUnpacked(h.app, desired.version, desired.sha256);
  } catch (err) {
    h.log.error({ err, version: desired.version }, 'desired release cannot be used');
    await endAll(h, end, why);
    await h.drive({ type: 'reconciled_idle', reason: `desired release ${desired.version} cannot be used: ${(err as Error).message}` });
    return;
  }
  await pointCurrent(h, release);
  const keep = plan.keep !== undefined ? byPid.get(plan.keep) : undefined;
  if (keep) {
    h.procs.track(keep);
    h.procs.markReady(keep);
    h.adopt(keep, release);
    await trySave(h);
    if (h.lifecycle.name !== 'running') h.log.info({ pid: keep.pid, version: release.version }, 're-attached to the running app');
    await h.drive({ type: 'reconciled_running' });
    await endAll(h, end, why);
    return;
  }
  // An activation waiting for its turn brings a release up itself.
  if (h.activationPending) {
    await endAll(h, end, why);
    await trySave(h);
    return;
  }
  // On held sockets the desired release starts beside what still answers; an app that binds its own ports must wait for them to be free.
  const shared = release.manifest.run.listen.length > 0;
  if (!shared) {
    await endAll(h, end, why);
    await Promise.all([...end, ...procs(plan.draining)].map((p) => p.exited));
  }
  await trySave(h);
  await h.drive({ type: 'reconciled_nothing', version: release.version }, { release });
  if (!shared) return;
  if (h.serving()) {
    await endAll(h, end, why);
  } else if (end.length > 0) {
    h.log.warn({ pids: end.map((p) => p.pid), version: release.version }, 'the desired release did not come up; the other versions that run are left serving until it does');
  }
}

/** The drain state.json records for p (matched by pid and start time), if any. */
function recordedDrain(recorded: ProcessRecord[], p: AppProcess): Drain | undefined {
  const r = recorded.find((x) => x.pid === p.pid && x.start_ticks === p.startTicks);
  if (!r?.stop_sent_at) return undefined;
  const sentAt = Date.parse(r.stop_sent_at);
  return { sentAt, deadline: r.drain_deadline ? Date.parse(r.drain_deadline) : sentAt };
}

/**
 * The interrupted activation's new version runs and the desired one does
 * not: if it is ready, it stays, and the swap is finished as it was asked
 * (`current`, state.json, the history). False when it is not ready.
 */
async function finishSwap(h: AppHost, next: AppProcess, target: PendingActivation): Promise<boolean> {
  let release: Release;
  try {
    release = await h.releases.ensureUnpacked(h.app, target.version, target.sha256);
  } catch {
    return false;
  }
  if (!(await h.procs.readyNow(next, release))) {
    h.log.warn({ pid: next.pid, version: target.version }, 'an interrupted activation\'s new version is not ready; stopping it and starting the desired release');
    return false;
  }
  h.procs.track(next);
  h.procs.markReady(next);
  h.adopt(next, release);
  await pointCurrent(h, release);
  const message = `finished by the agent after its restart: ${target.version} was ready and serving (pid ${next.pid})`;
  const rec = { version: target.version, sha256: target.sha256, at: target.at, strategy: target.strategy, reason: target.reason, result: 'done' as const, message, requested_by: target.requested_by };
  const from = h.persisted.desired?.version ?? '';
  h.persisted = target.restart ? afterRestart(h.persisted, rec) : afterActivation(h.persisted, rec, target.undo);
  await trySave(h);
  h.log.warn({ pid: next.pid, version: target.version, from }, `finished the interrupted activation of ${target.version}: it was ready and serving`);
  const done = {
    app: h.app, version: target.version, strategy: target.strategy, result: 'done' as const, seconds: (h.now() - Date.parse(target.at)) / 1000,
    reason: target.reason, from, who: target.requested_by, message,
  };
  h.events?.emit('activation', done);
  await h.journal?.(done).catch((err: unknown) => h.log.error({ err }, 'the activation could not be written to the history'));
  await h.drive({ type: 'reconciled_running' });
  return true;
}

/**
 * An activation whose swap state.json records, killed before the host's
 * history had it: the entry is written now, and nothing is in progress.
 * Returns the activation still in progress otherwise.
 */
async function journalRecordedSwap(h: AppHost): Promise<PendingActivation | null> {
  const a = h.persisted.activating;
  if (!a?.done || h.persisted.desired?.sha256 !== a.sha256) return a;
  const e = {
    app: h.app, version: a.version, strategy: a.strategy, result: 'done' as const, seconds: a.done.seconds,
    reason: a.reason, from: a.done.from, who: a.requested_by, message: `${a.done.message} (written to the history after the agent's restart)`,
  };
  h.events?.emit('activation', e);
  await h.journal?.(e).catch((err: unknown) => h.log.error({ err }, 'the activation could not be written to the history'));
  h.persisted = { ...h.persisted, activating: null };
  await trySave(h);
  return null;
}

/** The interrupted activation did not get to its end: it enters the history as failed, and nothing is in progress any more. */
async function undoInterrupted(h: AppHost, target: PendingActivation): Promise<void> {
  const serving = h.persisted.desired && !h.persisted.stopped ? `; ${h.persisted.desired.version} stays the desired release` : '';
  const message = `interrupted: the agent stopped before the activation of ${target.version} was recorded${serving}`;
  h.persisted = afterFailure(h.persisted, {
    version: target.version, sha256: target.sha256, at: target.at, strategy: target.strategy, reason: target.reason, result: 'failed', message, requested_by: target.requested_by,
  });
  h.log.warn({ version: target.version }, message);
  const failed = {
    app: h.app, version: target.version, strategy: target.strategy, result: 'failed' as const, seconds: (h.now() - Date.parse(target.at)) / 1000,
    reason: target.reason, from: h.persisted.desired?.version ?? '', who: target.requested_by, message,
  };
  h.events?.emit('activation', failed);
  await h.journal?.(failed).catch((err: unknown) => h.log.error({ err }, 'the activation could not be written to the history'));
}

/**
 * Lets each process drain with its release's stop signal and deadline
 * (tracked, recorded, not waited for); the log says why each one goes.
 */
async function endAll(h: AppHost, end: AppProcess[], why: (p: AppProcess) => string): Promise<void> {
  for (const p of end) {
    if (!p.running() || h.procs.isDraining(p)) continue;
    const id = h.procs.idOf(p);
    const stop = await stopSpecOf(h, id);
    h.log.warn({ pid: p.pid, version: id.version, reason: why(p) }, `stopping ${h.app} ${id.version} (pid ${p.pid}): ${why(p)}`);
    await h.procs.drain(p, stop);
  }
}

async function stopSpecOf(h: AppHost, id: { version: string; sha256: string }): Promise<StopSpec> {
  return h.releases.ensureUnpacked(h.app, id.version, id.sha256).then((r) => r.manifest.run.stop, () => FALLBACK_STOP);
}

/**
 * A process state.json records that no supervising process knows any more
 * (both died): it cannot be watched, so it is ended. One that was draining
 * already got its stop signal and keeps its recorded deadline; any other
 * gets its release's stop signal and drain deadline.
 */
async function endUnsupervised(h: AppHost, rec: ProcessRecord): Promise<void> {
  const fields = { pid: rec.pid, version: rec.version };
  if (rec.drain_deadline) {
    const left = Math.max(0, Date.parse(rec.drain_deadline) - h.now());
    // Not waited for: a drain may last long (SIGCONT signals nothing new; what is left at the deadline is killed).
    void endRecordedProcess(rec.pid, rec.start_ticks, 'SIGCONT', left).then((ended) => {
      if (ended) h.log.warn(fields, `${h.app} ${rec.version} (pid ${rec.pid}), left draining without its supervising process, has ended (its drain deadline was kept)`);
    });
    return;
  }
  const stop = await stopSpecOf(h, rec);
  if (await endRecordedProcess(rec.pid, rec.start_ticks, stop.signal, stop.drain_timeout_s * 1000)) {
    h.log.warn(fields, `ended ${h.app} ${rec.version} (pid ${rec.pid}): no supervising process knows it any more, so it could not be watched`);
  }
}

/** Points `current` at the release; a failed write (a full disk) is logged and tried again next time. */
async function pointCurrent(h: AppHost, release: Release): Promise<void> {
  const want = relative(h.paths.root, release.dir);
  try {
    if ((await readlinkOrUndefined(h.paths.current)) !== want) await swapSymlink(h.paths.current, want);
  } catch (err) {
    h.log.error({ err, version: release.version }, 'could not point current at the release that runs; the next reconcile tries again');
  }
}

/** Writes state.json; a failure is logged by the writer and changes nothing of what runs. */
async function trySave(h: AppHost): Promise<void> {
  await h.saveState().catch(() => undefined);
}
