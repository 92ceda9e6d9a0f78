// The unpack worker thread: pass 1 (scan the headers) on start, then pass 3
// (verify the extracted tree) when the parent says GNU tar has finished.
// The tree read in pass 1 stays in this worker between the two. Told GNU
// tar's pid, it begins pass 3 early (early-verify.ts): while it waits for GNU
// tar to take what pass 1 has checked, and after pass 1, it looks at the files
// GNU tar has finished. For a large tree the parent starts a second instance
// as a verify helper (role 'verify-helper', verify-helper.ts) and hands this
// one a port to it: pass 3 (its early part too) then covers half of the
// directories on each thread. If the helper fails or its thread ends, this
// thread walks its share too: slower, never wrong.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { scanTarball, type ScanProfile } from './scan.js';
import { checkDirs, childrenIndex, encodeShare, finish, splitShares, verifyDirs, type DirEntries, type ShareResult } from './verify.js';
import { serveVerifyHelper, type HelperReply, type HelperRequest } from './verify-helper.js';
import { EarlyVerifier, filesOf, runEarly } from './early-verify.js';
import { flushPaths } from './flush.js';
import { ArchiveRules, type UnpackLimits } from './rules.js';

export type WorkerInput = { fd: number; limits: Partial<UnpackLimits> } | { role: 'verify-helper'; port: MessagePort };

export type WorkerMessage =
  | { kind: 'progress'; entries: number }
  /** Decompressed tar bytes whose headers were all accepted, in order: GNU tar may read them (moved, not copied). */
  | { kind: 'checked'; tar: ArrayBuffer[] }
  | { kind: 'scanned'; entries: number; bytes: number; profile: ScanProfile }
  | { kind: 'refused'; problems: string[] }
  | { kind: 'corrupt'; message: string }
  /** `early`: files found as described while GNU tar ran (early-verify.ts). */
  | { kind: 'verified'; ms: number; threads: number; early: number }
  /** flushPaths of the verified tree, joined with NUL (one string: cheap to pass between threads). */
  | { kind: 'paths'; paths: string }
  | { kind: 'failed'; message: string };

export type ParentMessage =
  /** GNU tar is extracting into `dest` as process `pid`: pass 3 may begin on what it has finished. */
  | { kind: 'tar'; dest: string; pid: number }
  | { kind: 'verify'; dest: string }
  /** A port to a verify helper (after 'scanned'): pass 3 shares its walk with it. */
  | { kind: 'helper'; port: MessagePort }
  /** The verify helper's thread has exited. */
  | { kind: 'helper-gone' }
  /** The paths to fsync (flush: 'tree'). */
  | { kind: 'paths' }
  /** The parent wrote `bytes` of checked tar to GNU tar: the worker may have that many more in flight. */
  | { kind: 'credit'; bytes: number };

/** Checked bytes handed over but not yet written to GNU tar, at most: bounds memory when GNU tar is the slower side. */
export const IN_FLIGHT_MAX = 32 << 20;

/**
 * The nice value of this thread and of the verify helper's. Pass 1 runs up to IN_FLIGHT_MAX ahead of GNU tar,
 * which is the slower side; where the two want the same core, GNU tar should
 * have it (measured on the 86,000-file release, tmpfs, 2 cores: the unpack
 * took 2.95-3.0 s with this thread at nice 10 against 3.16-3.29 s at 0). On
 * Linux the nice value is per thread, so the agent's event loop keeps its
 * own; nothing here raises a priority, so it needs no privilege.
 */
export const PASS1_NICE = 10;

const port = parentPort;
if (!port) throw new Error('agent/storage/unpack/worker must run as a worker thread');
const input = workerData as WorkerInput;
try {
  setPriority(0, PASS1_NICE); // 0: the calling thread, on Linux
} catch { /* not permitted or not supported: only slower */ }
if ('role' in input) serveVerifyHelper(input.port);
else await primary(port, input);

async function primary(parent: MessagePort, input: { fd: number; limits: Partial<UnpackLimits> }): Promise<void> {
  const post = (m: WorkerMessage) => parent.postMessage(m);
  const scanning = new ArchiveRules(input.limits);
  /** The rules once pass 1 has accepted the whole archive. */
  let rules: ArchiveRules | undefined;
  /** GNU tar's target and pid, the early part of pass 3 over this thread's files, and whether pass 3 proper has begun. */
  let tar: { dest: string; pid: number } | undefined;
  let early: EarlyVerifier | undefined;
  let verifying = false;
  /**
   * The verify helper's port, the directories this thread walks itself and
   * the helper's share (walked here too if the helper goes away), and whether
   * it has gone (the parent saw its thread exit).
   */
  let helper: MessagePort | undefined;
  let mine: DirEntries[] | undefined;
  let theirs: DirEntries[] = [];
  let helperGone = false;
  let onHelperGone: (() => void) | undefined;

  const verify = async (dest: string, tree: ArchiveRules['tree']) => {
    const t = performance.now();
    const dirProblems = checkDirs(dest, tree);
    if (dirProblems.length > 0) return post({ kind: 'refused', problems: dirProblems });
    let results: ShareResult[];
    let threads = 1;
    if (helper && mine && !helperGone) {
      const h = helper;
      const answer = new Promise<ShareResult | undefined>((resolve) => {
        h.once('message', (m: HelperReply) => resolve(m.kind === 'done' ? m.result : undefined));
        onHelperGone = () => resolve(undefined);
      });
      h.postMessage({ kind: 'go', dest } satisfies HelperRequest);
      const own = verifyDirs(dest, mine);
      // The helper's walk, or, if it failed or went away, the same share walked here.
      const other = await answer;
      if (other) threads = 2;
      results = [own, other ?? verifyDirs(dest, theirs)];
    } else results = [verifyDirs(dest, childrenIndex(tree))];
    const problems = finish(dest, tree.size, results);
    post(problems.length > 0 ? { kind: 'refused', problems } : { kind: 'verified', ms: performance.now() - t, threads, early: results.reduce((n, r) => n + r.early, 0) });
  };

  let inFlight = 0;
  let creditArrived: (() => void) | undefined;
  parent.on('message', (m: ParentMessage) => {
    if (m.kind === 'credit') {
      inFlight -= m.bytes;
      const w = creditArrived;
      creditArrived = undefined;
      w?.();
      return;
    }
    if (m.kind === 'helper-gone') {
      // The helper's thread ended: nothing more comes from it.
      helperGone = true;
      onHelperGone?.();
      return;
    }
    if (m.kind === 'tar') {
      tar = { dest: m.dest, pid: m.pid };
      early = new EarlyVerifier(m.dest, m.pid, scanning.files);
      return;
    }
    if (!rules) return;
    if (m.kind === 'paths') return post({ kind: 'paths', paths: flushPaths(rules.tree).join('\0') });
    if (m.kind === 'helper') {
      // While GNU tar finishes: split the directories and send the helper its half.
      const [a, b] = splitShares(childrenIndex(rules.tree), 2);
      helper = m.port;
      mine = a;
      theirs = b ?? [];
      helper.postMessage({ kind: 'share', dirs: encodeShare(theirs), tar } satisfies HelperRequest);
      // From here this thread looks early only at the files of its own share.
      if (tar) early = new EarlyVerifier(tar.dest, tar.pid, filesOf(mine));
      return;
    }
    verifying = true;
    verify(m.dest, rules.tree).catch((err: unknown) => {
      post({ kind: 'failed', message: `checking the unpacked tree: ${err instanceof Error ? err.message : String(err)}` });
    });
  });

  let last = -Infinity;
  const profile: ScanProfile = { readMs: 0, inflateMs: 0, checkMs: 0, handOverMs: 0 };
  try {
    const outcome = await scanTarball(input.fd, scanning, (entries) => {
      const now = performance.now();
      if (now - last >= 250) {
        last = now;
        post({ kind: 'progress', entries });
      }
    }, async (tar) => {
      while (inFlight > IN_FLIGHT_MAX) {
        // Waiting for GNU tar: meanwhile, look at what it has finished (then take the credit messages in).
        if (early && early.step(4) > 0) await new Promise<void>((r) => setImmediate(r));
        else await new Promise<void>((r) => { creditArrived = r; });
      }
      for (const b of tar) inFlight += b.length;
      const abs = tar.map((b) => b.buffer as ArrayBuffer); // each owns its whole buffer (scan.ts's handOver): safe to move
      parent.postMessage({ kind: 'checked', tar: abs } satisfies WorkerMessage, abs);
    }, profile);
    if (outcome.ok) {
      rules = outcome.rules;
      post({ kind: 'scanned', entries: rules.entries, bytes: rules.bytes, profile });
      // Until the parent says GNU tar has finished (the helper's share, if one comes, is taken out on the way).
      void runEarly(() => early, () => verifying);
    } else if (outcome.kind === 'refused') {
      post({ kind: 'refused', problems: outcome.problems });
    } else {
      post({ kind: 'corrupt', message: outcome.message });
    }
  } catch (err) {
    post({ kind: 'failed', message: `reading the tarball: ${err instanceof Error ? err.message : String(err)}` });
  }
}
