// Undoing a swap that could not be recorded (a full disk: `current` or
// state.json could not be written) so that what runs is what state.json
// still says: the new version is stopped, and the old one serves (the hot
// strategy left it running) or is started again (the restart strategy had
// stopped it). An upgrade command has already turned the running process
// into the new version: nothing can be undone there, and it serves on.
import { relative } from 'node:path';
import { swapSymlink } from '../../common/atomic.js';
import type { AppHost } from './app-host.js';
import type { AppProcess } from './process/runner.js';
import type { Release } from '../storage/releases.js';

/** The swap's recording failed with `cause`; `restored` serves now, if anything does. */
export class SwapNotRecorded extends Error {
  constructor(override readonly cause: unknown, readonly restored: AppProcess | undefined) {
    super(`the swap could not be recorded: ${(cause as Error).message}`);
    this.name = 'SwapNotRecorded';
  }
}

export interface UnrecordedSwap {
  proc: AppProcess;
  release: Release;
  /** What served before the activation. */
  from?: { proc: AppProcess; release: Release };
  /** The old version, still running beside the new one (hot). */
  retire?: { proc: AppProcess; release: Release };
}

/** Puts back what served; returns the process that serves now (undefined: nothing does). */
export async function undoSwap(h: AppHost, s: UnrecordedSwap): Promise<AppProcess | undefined> {
  if (s.from && s.proc === s.from.proc) return s.proc;
  h.log.warn({ version: s.release.version, pid: s.proc.pid }, 'the swap could not be recorded; stopping the new version');
  await h.procs.stop(s.proc, s.release);
  let back: AppProcess | undefined;
  if (s.retire?.proc.running()) {
    back = s.retire.proc;
  } else if (s.from) {
    try {
      back = await h.procs.start(s.from.release);
      await h.procs.waitReady(back, s.from.release);
    } catch (err) {
      h.log.error({ err, version: s.from.release.version }, 'could not start the old version again');
      if (back?.running()) await h.procs.stop(back, s.from.release);
      back = undefined;
    }
  }
  if (back && s.from) {
    // `current` may have been swapped before the state write failed; a failure here is mended by the next reconcile.
    await swapSymlink(h.paths.current, relative(h.paths.root, s.from.release.dir))
      .catch((err: unknown) => h.log.error({ err }, 'could not point current back at the version that serves'));
  }
  return back;
}
