// The unpack worker thread: pass 1 (scan the headers) on start, then pass 3
// (verify the extracted tree) when the parent says GNU tar has finished.
// The tree read in pass 1 stays in this worker between the two.
import { parentPort, workerData } from 'node:worker_threads';
import { scanTarball, type ScanProfile } from './scan.js';
import { verifyTree } from './verify.js';
import { flushPaths } from './flush.js';
import type { ArchiveRules, UnpackLimits } from './rules.js';

export interface WorkerInput { fd: number; limits: Partial<UnpackLimits> }

export type WorkerMessage =
  | { kind: 'progress'; entries: number }
  /** Decompressed tar bytes whose headers were all accepted: GNU tar may read them (moved, not copied). */
  | { kind: 'checked'; tar: ArrayBuffer }
  | { kind: 'scanned'; entries: number; bytes: number; profile: ScanProfile }
  | { kind: 'refused'; problems: string[] }
  | { kind: 'corrupt'; message: string }
  | { kind: 'verified'; ms: number }
  /** flushPaths of the verified tree, joined with NUL (one string: cheap to pass between threads). */
  | { kind: 'paths'; paths: string }
  | { kind: 'failed'; message: string };

export type ParentMessage =
  | { kind: 'verify'; dest: string }
  /** The paths to fsync (flush: 'tree'). */
  | { kind: 'paths' }
  /** The parent wrote `bytes` of checked tar to GNU tar: the worker may have that many more in flight. */
  | { kind: 'credit'; bytes: number };

/** Checked bytes handed over but not yet written to GNU tar, at most: bounds memory when GNU tar is the slower side. */
export const IN_FLIGHT_MAX = 32 << 20;

const port = parentPort;
if (!port) throw new Error('agent/storage/unpack/worker must run as a worker thread');
const post = (m: WorkerMessage) => port.postMessage(m);
const input = workerData as WorkerInput;
let rules: ArchiveRules | undefined;

let inFlight = 0;
let creditArrived: (() => void) | undefined;
port.on('message', (m: ParentMessage) => {
  if (m.kind === 'credit') {
    inFlight -= m.bytes;
    const w = creditArrived;
    creditArrived = undefined;
    w?.();
    return;
  }
  if (m.kind === 'paths' && rules) {
    post({ kind: 'paths', paths: flushPaths(rules.tree).join('\0') });
    return;
  }
  if (m.kind !== 'verify' || !rules) return;
  try {
    const t = performance.now();
    const problems = verifyTree(m.dest, rules.tree);
    post(problems.length > 0 ? { kind: 'refused', problems } : { kind: 'verified', ms: performance.now() - t });
  } catch (err) {
    post({ kind: 'failed', message: `checking the unpacked tree: ${err instanceof Error ? err.message : String(err)}` });
  }
});

let last = -Infinity;
const profile: ScanProfile = { readMs: 0, inflateMs: 0, checkMs: 0, handOverMs: 0 };
try {
  const outcome = await scanTarball(input.fd, input.limits, (entries) => {
    const now = performance.now();
    if (now - last >= 250) {
      last = now;
      post({ kind: 'progress', entries });
    }
  }, async (tar) => {
    while (inFlight > IN_FLIGHT_MAX) await new Promise<void>((r) => { creditArrived = r; });
    inFlight += tar.length;
    const ab = tar.buffer as ArrayBuffer; // its own buffer (allocUnsafeSlow in scan.ts): safe to move
    port.postMessage({ kind: 'checked', tar: ab } satisfies WorkerMessage, [ab]);
  }, profile);
  if (outcome.ok) {
    rules = outcome.rules;
    post({ kind: 'scanned', entries: rules.entries, bytes: rules.bytes, profile });
  } else if (outcome.kind === 'refused') {
    post({ kind: 'refused', problems: outcome.problems });
  } else {
    post({ kind: 'corrupt', message: outcome.message });
  }
} catch (err) {
  post({ kind: 'failed', message: `reading the tarball: ${err instanceof Error ? err.message : String(err)}` });
}
