// The unpack worker thread: pass 1 (scan the headers) on start, then pass 3
// (verify the extracted tree) when the parent says GNU tar has finished.
// The tree read in pass 1 stays in this worker between the two.
import { parentPort, workerData } from 'node:worker_threads';
import { scanTarball } from './scan.js';
import { verifyTree } from './verify.js';
import type { ArchiveRules, UnpackLimits } from './rules.js';

export interface WorkerInput { fd: number; limits: Partial<UnpackLimits> }

export type WorkerMessage =
  | { kind: 'progress'; entries: number }
  /** The first `compressed` bytes of the tarball were checked: GNU tar may read that far. */
  | { kind: 'checked'; compressed: number }
  | { kind: 'scanned'; entries: number; bytes: number }
  | { kind: 'refused'; problems: string[] }
  | { kind: 'corrupt'; message: string }
  | { kind: 'verified' }
  | { kind: 'failed'; message: string };

export type ParentMessage = { kind: 'verify'; dest: string };

const port = parentPort;
if (!port) throw new Error('agent/unpack/worker must run as a worker thread');
const post = (m: WorkerMessage) => port.postMessage(m);
const input = workerData as WorkerInput;
let rules: ArchiveRules | undefined;

port.on('message', (m: ParentMessage) => {
  if (m.kind !== 'verify' || !rules) return;
  try {
    const problems = verifyTree(m.dest, rules.tree);
    post(problems.length > 0 ? { kind: 'refused', problems } : { kind: 'verified' });
  } catch (err) {
    post({ kind: 'failed', message: `checking the unpacked tree: ${err instanceof Error ? err.message : String(err)}` });
  }
});

let last = 0;
try {
  const outcome = await scanTarball(input.fd, input.limits, (entries) => {
    const now = Date.now();
    if (now - last >= 250) {
      last = now;
      post({ kind: 'progress', entries });
    }
  }, (compressed) => post({ kind: 'checked', compressed }));
  if (outcome.ok) {
    rules = outcome.rules;
    post({ kind: 'scanned', entries: rules.entries, bytes: rules.bytes });
  } else if (outcome.kind === 'refused') {
    post({ kind: 'refused', problems: outcome.problems });
  } else {
    post({ kind: 'corrupt', message: outcome.message });
  }
} catch (err) {
  post({ kind: 'failed', message: `reading the tarball: ${err instanceof Error ? err.message : String(err)}` });
}
