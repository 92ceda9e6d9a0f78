// The second thread of pass 3 (verify.ts): an instance of the unpack worker
// started with the role 'verify-helper'. The primary sends it, over a port of
// their own, its share of the directories while GNU tar still extracts (with
// GNU tar's pid: it looks at the files of its share GNU tar has finished,
// early-verify.ts), then 'go' once GNU tar has finished and checkDirs has
// passed; it answers with what it found there.
import type { MessagePort } from 'node:worker_threads';
import { decodeShare, verifyDirs, type DirEntries, type ShareResult } from './verify.js';
import { EarlyVerifier, filesOf, runEarly } from './early-verify.js';

export type HelperRequest = { kind: 'share'; dirs: string; tar?: { dest: string; pid: number } } | { kind: 'go'; dest: string };
export type HelperReply = { kind: 'done'; result: ShareResult } | { kind: 'failed'; message: string };

export function serveVerifyHelper(port: MessagePort): void {
  let dirs: DirEntries[] = [];
  let went = false;
  port.on('message', (m: HelperRequest) => {
    if (m.kind === 'share') {
      dirs = decodeShare(m.dirs);
      if (m.tar) {
        const early = new EarlyVerifier(m.tar.dest, m.tar.pid, filesOf(dirs));
        void runEarly(() => early, () => went);
      }
      return;
    }
    went = true;
    try {
      port.postMessage({ kind: 'done', result: verifyDirs(m.dest, dirs) } satisfies HelperReply);
    } catch (err) {
      port.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies HelperReply);
    }
  });
}
