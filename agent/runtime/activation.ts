// One activation of an app: check the request, unpack the release, let the
// strategy swap it in, and record the outcome (state.json's stack and
// history, the agent's `activation` event, the caller's events). A cancel
// (the signal) is honoured until the strategy has swapped: the old version
// keeps serving, or is started again, and the activation is recorded as
// failed, saying it was cancelled.
//
// The order after the new version is ready is the design's: `current` is
// swapped and state.json records the new release, and only then does the
// old version get its stop signal. An agent killed at any step finds either
// the old version serving and named in state.json, or the new one named
// there (reconcile.ts). state.json also records the activation while it runs,
// so that a restarted agent can finish it as it was asked.
import { relative } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import { swapSymlink } from '../../common/atomic.js';
import { afterActivation, afterFailure, afterRestart, rollbackTarget, type ActivationRecord, type PendingActivation } from './state.js';
import { chooseStrategy } from './strategies/index.js';
import { ActivationFailed, cancelledMessage, type Emit } from './strategies/strategy.js';
import { explainDiskFull } from '../storage/disk-space.js';
import { SwapNotRecorded, undoSwap } from './swap-undo.js';
import type { AppHost } from './app-host.js';
import type { Release } from '../storage/releases.js';

export interface ActivateRequest {
  version: string;
  sha256: string;
  strategy: string;
  reason: string;
  requested_by: string;
  /** Pop the current activation instead of pushing: the release must be the rollback target. */
  undo: boolean;
  /** A restart onto the release that runs: done even if it runs, and recorded in the history only. */
  restart?: boolean;
  /** Recorded with the activation, e.g. why the agent rolled back on its own. */
  note?: string;
}

/** How an activation ended, as state.json, the history and the caller hear it. */
interface Outcome {
  result: 'done' | 'failed';
  strategy: string;
  /** The version that ran before. */
  from: string;
  message: string;
  output?: string[];
}

export async function activateRelease(h: AppHost, req: ActivateRequest, emit: Emit, signal: AbortSignal): Promise<void> {
  const started = h.now();
  if (req.undo) checkUndo(h, req);
  const cur = h.serving();
  if (!req.undo && !req.restart && cur && cur.release.sha256 === req.sha256 && h.lifecycle.name === 'running') {
    emit('done', { message: `${h.app} ${req.version} is already running (pid ${cur.proc.pid}): unchanged`, pid: cur.proc.pid, unchanged: true });
    return;
  }
  const before = cur?.release.version ?? '';
  // Cancelled while it waited for its turn (another change of the app in progress).
  if (signal.aborted) return failed(h, req, started, emit, { result: 'failed', strategy: req.strategy, from: before, message: cancelledMessage(signal) });
  let release: Release;
  try {
    release = await h.releases.ensureUnpacked(h.app, req.version, req.sha256, () => emit('unpacking', { message: `unpacking ${req.version}` }), signal);
  } catch (err) {
    if (!signal.aborted) throw err;
    return failed(h, req, started, emit, { result: 'failed', strategy: req.strategy, from: before, message: `${cancelledMessage(signal)} while unpacking ${req.version}` });
  }
  const strategy = chooseStrategy(req.strategy, release.manifest.run, req.restart ?? false);
  if (signal.aborted) return failed(h, req, started, emit, { result: 'failed', strategy: strategy.name, from: before, message: cancelledMessage(signal) });
  // On disk before anything changes: an agent killed from here on finds the activation it interrupted
  // (reconcile finishes it or records it as failed). A write that fails leaves nothing changed.
  const idle = h.persisted;
  h.persisted = { ...idle, activating: pending(req, strategy.name, started) };
  try {
    await h.saveState();
  } catch (err) {
    h.persisted = idle;
    throw await explainDiskFull(err, h.paths.root, `the activation of ${req.version} was not begun; ${before || 'nothing'} runs as before`);
  }
  const refused = await h.drive({ type: 'activate', version: req.version });
  if (refused.refused) {
    h.persisted = { ...h.persisted, activating: null };
    await h.saveState().catch(() => undefined);
    throw new SlipwayError('SLIPWAY_ERR_BUSY', `${h.app} cannot be activated now: ${refused.refused}`);
  }
  const from = h.serving();
  const fromVersion = from?.release.version ?? '';
  try {
    const { proc, retire, inPlace, strategy: used = strategy.name } = await strategy.activate({
      app: h.app, from, to: release, emit, signal,
      start: (r) => h.procs.start(r),
      waitReady: (p, r, s) => h.procs.waitReady(p, r, s),
      stop: (p, r) => h.procs.stop(p, r),
      runCommand: (argv, r, pid, s) => h.procs.runInRelease(argv, r, pid, release, s),
    });
    // The same process now runs the new release (state.json's process record says so from the next write on).
    if (inPlace) h.procs.upgraded(proc, release);
    h.adopt(proc, release);
    const secs = ((h.now() - started) / 1000).toFixed(2);
    const o: Outcome = { result: 'done', strategy: used, from: fromVersion, message: `${used === 'command' ? 'upgrade command' : used} in ${secs} s` };
    const rec = record(req, started, o);
    const prior = h.persisted;
    try {
      await swapSymlink(h.paths.current, relative(h.paths.root, release.dir));
      const swapped = req.restart ? afterRestart(h.persisted, rec) : afterActivation(h.persisted, rec, req.undo);
      const done = { from: fromVersion, message: rec.message, seconds: (h.now() - started) / 1000 };
      h.persisted = { ...swapped, activating: { ...pending(req, strategy.name, started), done } };
      await h.saveState();
    } catch (cause) {
      // Not recorded (a full disk): what runs goes back to what state.json says.
      h.persisted = prior;
      throw new SwapNotRecorded(cause, await undoSwap(h, { proc, release, from, retire }));
    }
    await announce(h, req, started, { ...o, message: rec.message });
    // Recorded as draining (state.json) and signalled before anyone hears of it.
    if (retire) await h.procs.drain(retire.proc, retire.release.manifest.run.stop, release.manifest.run.stop.max_draining);
    // The history has it: nothing is in progress. Written after the stop signal went, which this write
    // gives time to arrive before the caller hears 'done' (a full disk: recovery writes the entry again).
    h.persisted = { ...h.persisted, activating: null };
    await h.saveState().catch(() => undefined);
    if (retire) emit('draining', { message: `draining ${retire.release.version} (pid ${retire.proc.pid})`, pid: retire.proc.pid });
    await h.drive({ type: 'activation_done' });
    // A rollout that puts a host back says so with its own event.
    emit(req.reason === 'revert' ? 'rolled_back' : req.reason === 'auto_rollback' ? 'auto_rolled_back' : 'done', { message: `${h.app} ${req.version} is running (pid ${proc.pid}); ${used === 'command' ? 'the upgrade command' : used} took ${secs} s`, pid: proc.pid });
  } catch (err) {
    if (err instanceof SwapNotRecorded) return notRecorded(h, req, started, { strategy: strategy.name, from: fromVersion, fromRelease: from?.release }, err);
    if (!(err instanceof ActivationFailed)) {
      h.persisted = { ...h.persisted, activating: null };
      await h.drive({ type: 'activation_failed', version: req.version, why: (err as Error).message, serving: h.serving() !== undefined });
      throw err;
    }
    const restored = err.restored?.running() && from ? err.restored : undefined;
    if (restored && from) {
      h.adopt(restored, from.release);
      await h.drive({ type: 'activation_restored' });
    } else {
      await h.drive({ type: 'activation_failed', version: req.version, why: err.message, serving: from?.proc.running() ?? false });
    }
    await failed(h, req, started, emit, { result: 'failed', strategy: strategy.name, from: fromVersion, message: err.message, output: err.output });
  }
}

/** An undo goes to the rollback target and nowhere else. */
function checkUndo(h: AppHost, req: ActivateRequest): void {
  const target = rollbackTarget(h.persisted);
  if (!target || target.sha256 !== req.sha256) {
    const has = target ? `${target.version} (${target.sha256.slice(0, 12)})` : 'none (fewer than two successful activations)';
    throw new SlipwayError('SLIPWAY_ERR_NO_ROLLBACK_TARGET', `the rollback target of ${h.app} on this host is ${has}, not ${req.version} (${req.sha256.slice(0, 12)})`);
  }
}

/** What state.json says about the activation while it runs. */
function pending(req: ActivateRequest, strategy: string, started: number): PendingActivation {
  return {
    version: req.version, sha256: req.sha256, at: new Date(started).toISOString(), strategy, reason: req.reason || 'deploy',
    requested_by: req.requested_by, undo: req.undo, restart: req.restart ?? false,
  };
}

function record(req: ActivateRequest, started: number, o: Outcome): ActivationRecord {
  return {
    version: req.version, sha256: req.sha256, at: new Date(started).toISOString(), strategy: o.strategy,
    reason: req.reason || 'deploy', result: o.result, message: req.note ? `${req.note}; ${o.message}` : o.message, requested_by: req.requested_by,
  };
}

/**
 * The agent's `activation` event (metrics hear it) and the host's history,
 * written before anyone hears the outcome: an agent killed after the caller
 * saw `draining` or `done` has it on disk.
 */
async function announce(h: AppHost, req: ActivateRequest, started: number, o: Outcome): Promise<void> {
  const e = {
    app: h.app, version: req.version, strategy: o.strategy, result: o.result, seconds: (h.now() - started) / 1000,
    reason: req.reason || 'deploy', from: o.from, who: req.requested_by, message: o.message,
  };
  h.events?.emit('activation', e);
  await h.journal?.(e).catch((err: unknown) => h.log.error({ err }, 'the activation could not be written to the history'));
}

/** A failed activation enters the app's history and the host's, and the caller hears why. */
async function failed(h: AppHost, req: ActivateRequest, started: number, emit: Emit, o: Outcome): Promise<void> {
  await recordFailure(h, req, started, o);
  emit('failed', { message: o.message, output: o.output });
}

async function recordFailure(h: AppHost, req: ActivateRequest, started: number, o: Outcome): Promise<void> {
  h.persisted = afterFailure(h.persisted, record(req, started, o));
  await announce(h, req, started, o);
  // A failed write (a full disk) is logged by the writer; the failure itself is what the caller must hear.
  await h.saveState().catch(() => undefined);
  h.log.warn({ version: req.version, reason: o.message }, 'activation failed');
}

/**
 * The swap could not be recorded and was undone (undoSwap): the lifecycle
 * follows what serves now, the failure is recorded where it can be, and the
 * caller gets the error, saying the disk is full and where when it is.
 */
async function notRecorded(h: AppHost, req: ActivateRequest, started: number, o: { strategy: string; from: string; fromRelease?: Release }, err: SwapNotRecorded): Promise<never> {
  const restored = err.restored;
  if (restored && o.fromRelease) {
    h.adopt(restored, o.fromRelease);
    await h.drive({ type: 'activation_restored' });
  } else {
    await h.drive({ type: 'activation_failed', version: req.version, why: (err.cause as Error).message, serving: false });
  }
  const outcome = restored ? `${o.fromRelease?.version} serves (pid ${restored.pid})` : `${req.version} was stopped and nothing serves`;
  const explained = await explainDiskFull(err.cause, h.paths.root, `the activation of ${req.version} could not be recorded and was undone: ${outcome}`);
  const message = explained instanceof Error ? explained.message : String(explained);
  await recordFailure(h, req, started, { result: 'failed', strategy: o.strategy, from: o.from, message });
  throw explained;
}
