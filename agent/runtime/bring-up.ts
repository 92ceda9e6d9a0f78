// Starting a release as the app's process outside an activation (an
// operator's start, a restart after a crash, reconcile): start it, adopt it,
// wait until it is ready, and report each outcome to the lifecycle
// (app-state.ts), which decides what follows.
import { NotReadyError } from './readiness.js';
import { cancelledMessage } from './strategies/strategy.js';
import type { AppHost, EffectContext } from './app-host.js';
import type { AppProcess } from './process/runner.js';
import type { Release } from '../storage/releases.js';

export async function bringUp(h: AppHost, release: Release, ctx: EffectContext): Promise<void> {
  // One that is still ending (its supervisor died, reconcile gave up on it) must not count as a crash of this start.
  h.forget();
  let proc: AppProcess;
  try {
    proc = await h.procs.start(release);
  } catch (err) {
    await h.drive({ type: 'start_failed', version: release.version, why: (err as Error).message }, { release });
    ctx.emit?.('failed', { message: `could not start ${release.version}: ${(err as Error).message}` });
    return;
  }
  h.adopt(proc, release);
  ctx.emit?.('starting', { message: `started ${release.version} (pid ${proc.pid})`, pid: proc.pid });
  try {
    await h.procs.waitReady(proc, release, ctx.signal);
  } catch (err) {
    const why = ctx.signal?.aborted ? cancelledMessage(ctx.signal, 'start') : (err as Error).message;
    const output = err instanceof NotReadyError ? err.output : await proc.lastOutput(20);
    if (proc.running()) h.log.warn({ version: release.version, reason: why }, 'not ready; stopping it');
    await h.drive({ type: 'not_ready', why, alive: proc.running() }, { release, proc });
    ctx.emit?.('failed', { message: why, output });
    return;
  }
  await h.drive({ type: 'ready' });
  ctx.emit?.('ready', { message: `${release.version} is ready (pid ${proc.pid})`, pid: proc.pid });
}
