// Reconcile, after an agent start and on the reconcile schedule: re-attach to
// what the supervising process still runs, end processes whose supervisor is
// gone (checked by start time, so a reused pid is never hit), remove temp
// leftovers, and bring the desired release up if it does not run. The rule
// for an interrupted activation: state.json's desired release is the truth;
// a version that runs beside it is stopped. It never restarts an app that
// serves its desired release.
import { relative } from 'node:path';
import { swapSymlink, readlinkOrUndefined } from '../../common/atomic.js';
import { endRecordedProcess } from './process/proc.js';
import type { AppHost } from './app-host.js';
import type { Release } from '../storage/releases.js';

export async function reconcileApp(h: AppHost): Promise<void> {
  await h.releases.removeTempLeftovers(h.app);
  const supervised = await h.runner.attach(h.app);
  const known = new Set(supervised.map((p) => p.pid));
  for (const rec of h.persisted.processes) {
    if (known.has(rec.pid)) continue;
    if (await endRecordedProcess(rec.pid, rec.start_ticks, 'SIGTERM', 10_000)) {
      h.log.warn({ pid: rec.pid, version: rec.version }, 'ended an app process left without its supervising process');
    }
  }
  const live = supervised.filter((p) => p.running());
  const desired = h.persisted.desired;
  const keep = desired && !h.persisted.stopped ? live.find((p) => p.sha256 === desired.sha256) : undefined;
  for (const p of live) {
    if (p === keep) continue;
    h.log.warn({ pid: p.pid, version: p.version }, 'stopping a process that is not the desired release (left by an interrupted activation)');
    await p.stop('SIGTERM', 10_000);
  }
  if (!desired || h.persisted.stopped) {
    await h.saveState();
    await h.drive({ type: 'reconciled_idle', reason: desired ? 'stopped by an operator' : 'never activated' });
    return;
  }
  let release: Release;
  try {
    release = await h.releases.ensureUnpacked(h.app, desired.version, desired.sha256);
  } catch (err) {
    h.log.error({ err, version: desired.version }, 'desired release cannot be used');
    await h.drive({ type: 'reconciled_idle', reason: `desired release ${desired.version} cannot be used: ${(err as Error).message}` });
    return;
  }
  const want = relative(h.paths.root, release.dir);
  if ((await readlinkOrUndefined(h.paths.current)) !== want) await swapSymlink(h.paths.current, want);
  if (keep) {
    h.procs.track(keep);
    h.adopt(keep, release);
    await h.saveState();
    if (h.lifecycle.name !== 'running') h.log.info({ pid: keep.pid, version: release.version }, 're-attached to the running app');
    await h.drive({ type: 'reconciled_running' });
    return;
  }
  await h.saveState();
  // An activation waiting for its turn brings a release up itself.
  if (h.activationPending) return;
  await h.drive({ type: 'reconciled_nothing', version: release.version }, { release });
}
