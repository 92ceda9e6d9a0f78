// Pass 3 begun while GNU tar still extracts (verify.ts does the rest after
// it ends). GNU tar writes the files in archive order, each one whole (its
// data, then its times) before it reads the next header, and it writes
// nothing else but a warning on stderr; so the count of bytes it has written
// (/proc/PID/io's wchar) says how far it has got. A file whose data ends more
// than WRITTEN_MARGIN before that count is finished, and is looked at now: a
// regular file, one link, the archive's size, its mode already exactly what
// pass 3 would set. One that is all of that is marked verified, and the walk
// after GNU tar only sees that its name is listed; anything else (not there
// yet, another size, a mode to set) is left to that walk, which checks it as
// before. Nothing here refuses, changes a file or reports a problem.
//
// Why a file found right now stays right: GNU tar runs with
// --keep-old-files, so no later member can replace or rewrite a path that
// exists (the extraction fails instead); pass 1 refuses duplicates and hard
// links; what GNU tar defers to its end touches directories and symlink
// placeholders, never checked here. The walk after GNU tar still checks every
// directory (a real one, so no path went through a symlink), every name in
// them, every symlink and the count.
//
// Runs in the unpack worker threads (synchronous lstat), a slice at a time,
// so that their messages are still answered; at nice 10 (worker.ts), so GNU
// tar keeps its core.
import { lstatSync, readFileSync } from 'node:fs';
import type { FileNode } from './rules.js';
import type { DirEntries } from './verify.js';

/** Bytes GNU tar may have written that are not file data (a warning on stderr). */
export const WRITTEN_MARGIN = 64 * 1024;

/** Bytes process `pid` has written so far, or undefined when that cannot be read (it has exited; no /proc). */
export function bytesWritten(pid: number): number | undefined {
  try {
    const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the file at `full` is already exactly what pass 3 wants of `node` (verify.ts's checks, nothing to change). */
function finishedAsDescribed(full: string, node: FileNode): boolean {
  try {
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (!st || !st.isFile() || st.size !== node.size || st.nlink !== 1) return false;
    return (st.mode & 0o7777) === (st.mode & 0o111 ? 0o755 : 0o644);
  } catch {
    return false;
  }
}

export class EarlyVerifier {
  private next = 0;
  private written = 0;
  /** GNU tar's progress could not be read (it has exited): nothing more is looked at. */
  private blind = false;
  /** Files found as described so far. */
  verified = 0;

  /**
   * `files`, in the order GNU tar writes them (their `end` rising), may grow
   * while this runs (pass 1 adds them as it reads the headers).
   */
  constructor(private readonly dest: string, private readonly pid: number, private readonly files: ReadonlyArray<readonly [string, FileNode]>) {}

  /** Whether files are left to look at (as far as GNU tar's progress can be read). */
  get pending(): boolean {
    return !this.blind && this.next < this.files.length;
  }

  /** Looks at the files GNU tar has finished, for about `budgetMs`; how many it looked at (0: none finished yet). */
  step(budgetMs: number): number {
    const until = performance.now() + budgetMs;
    let n = 0;
    while (this.pending) {
      const [path, node] = this.files[this.next]!;
      const needed = (node.end ?? Infinity) + WRITTEN_MARGIN;
      if (needed >= this.written) {
        const w = bytesWritten(this.pid);
        if (w === undefined) { this.blind = true; break; }
        this.written = w;
        if (needed >= w) break;
      }
      this.next++;
      n++;
      if (!node.verified && finishedAsDescribed(`${this.dest}/${path}`, node)) {
        node.verified = true;
        this.verified++;
      }
      if ((n & 63) === 0 && performance.now() > until) break;
    }
    return n;
  }
}

/**
 * Runs the verifier `current()` gives (it may be replaced meanwhile: the primary's, once it has
 * handed the helper its share) a slice at a time, until it has nothing left or `stop()` says so.
 */
export async function runEarly(current: () => EarlyVerifier | undefined, stop: () => boolean): Promise<void> {
  for (let early = current(); early && !stop() && early.pending; early = current()) {
    const n = early.step(5);
    // Nothing finished yet: GNU tar is behind; look again shortly.
    await new Promise<void>((r) => (n > 0 ? setImmediate(r) : setTimeout(r, 5)));
  }
}

/** The unverified files among `dirs`' children, in GNU tar's order: what a thread looks at for its share. */
export function filesOf(dirs: DirEntries[]): Array<readonly [string, FileNode]> {
  const out: Array<readonly [string, FileNode]> = [];
  for (const [dir, children] of dirs) {
    for (const [name, node] of children) {
      if (node.type === 'file' && !node.verified && node.end !== undefined) out.push([dir === '' ? name : `${dir}/${name}`, node]);
    }
  }
  return out.sort((a, b) => a[1].end! - b[1].end!);
}
