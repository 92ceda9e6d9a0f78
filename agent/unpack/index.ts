// The agent's release unpacker: validate, extract with GNU tar, verify, sync.
//
// Why not node-tar's extractor: it costs about 1 ms per entry (lstat, mkdir
// and path reservations through the libuv pool), ~13× GNU tar on a
// node_modules tree (docs: dependencies.md §3.7). So node-tar only *parses*:
//
//   pass 1  worker thread: node-tar's Parser reads the headers (bodies are
//           skipped) and ArchiveRules checks every entry (types, "..",
//           absolute paths, symlink targets resolved through the archive's
//           own tree, writes through symlinks, duplicates, limits).
//   pass 2  child process, AT THE SAME TIME as pass 1 (two cores): GNU tar
//           extracts into `dest` (created 0700 and owned by the agent, so no
//           other user can reach a half-written tree), --no-same-owner,
//           umask 022 + --no-same-permissions, never -P. Nothing it writes
//           is used unless pass 1 accepts the archive; if pass 1 refuses,
//           GNU tar is killed and `dest` removed.
//   pass 3  worker thread: an lstat walk compares the result with pass 1's
//           tree (same paths, types, file sizes, link targets, no hard links,
//           symlinks' realpaths inside `dest`). This catches any difference
//           between the two tar parsers instead of trusting either.
//   then    chmod 0755 on `dest`, one syncfs (`sync -f dest`).
//
// Why running GNU tar before pass 1 has finished cannot write outside
// `dest`: without -P, GNU tar strips leading "/" from member and hard-link
// names and skips members whose names contain "..", and it extracts a
// symlink whose target is absolute or holds ".." as a placeholder file,
// turning it into the link only at the very end, so no later member can be
// written through it. Devices or fifos it may create meanwhile stay inside
// the private `dest` and are removed with it when pass 1 refuses them.
//
// Sequentially, pass 1 + GNU tar + pass 3 + sync measured ≈ GNU + 3.3 s
// (1.5× of a 6.6 s GNU run) on the bench tree (bench/unpack.ts: 86,000 files,
// 458 MB, 108 MB .tar.gz, 2 cores); overlapping pass 1 with GNU tar takes
// its 1.9 s off. bench/pipeline.ts has the current figures.
//
// Any failure (refused content, corrupt gzip/tar, GNU tar error, abort)
// removes `dest` entirely before the error is thrown.
import { startWorker } from '../worker-file.js';
import { mkdir, rm, chmod, open, type FileHandle } from 'node:fs/promises';
import { SlipwayError } from '../../common/errors.js';
import { DEFAULT_LIMITS, type UnpackLimits } from './rules.js';
import { checkGnuTar, extractWithGnuTar, syncFs, type Running } from './gnu-tar.js';
import type { WorkerInput, WorkerMessage, ParentMessage } from './worker.js';

export { DEFAULT_LIMITS, type UnpackLimits };

export interface UnpackResult { entries: number; bytes: number; ms: number }

export class UnsafeArchiveError extends SlipwayError {
  constructor(public readonly problems: string[]) {
    const shown = problems.slice(0, 3).join('; ');
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    super('INVALID_ARGUMENT', `release tarball refused: ${shown}${more}`);
    this.name = 'UnsafeArchiveError';
  }
}

const corrupt = (detail: string) => new SlipwayError('INVALID_ARGUMENT', `release tarball is corrupt: ${detail}`);

export async function unpackTarball(
  tarball: string,
  dest: string,
  opts: { limits?: Partial<UnpackLimits>; signal?: AbortSignal; onProgress?: (entries: number) => void } = {},
): Promise<UnpackResult> {
  const started = performance.now();
  const { signal, onProgress } = opts;
  const aborted = () => new SlipwayError('ABORTED', 'unpacking was aborted');
  if (signal?.aborted) throw aborted();
  await checkGnuTar();
  // Opened once: pass 1 and GNU tar read the same file even if its path is replaced meanwhile.
  let fh: FileHandle;
  try {
    fh = await open(tarball, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SlipwayError('NOT_FOUND', `release tarball ${tarball} does not exist`);
    throw err;
  }
  try {
    await mkdir(dest, { mode: 0o700 });
  } catch (err) {
    await fh.close();
    // Never remove a directory we did not create.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SlipwayError('ALREADY_EXISTS', `unpack target ${dest} already exists`);
    throw err;
  }

  const worker = startWorker(new URL('./worker.js', import.meta.url), { fd: fh.fd, limits: opts.limits ?? {} } satisfies WorkerInput);
  let child: Running | undefined;
  // The first fatal event (worker crash, abort) rejects `failed` and kills GNU tar or sync.
  let fatal: Error | undefined;
  let failWith: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { failWith = reject; });
  failed.catch(() => undefined);
  const fail = (err: Error) => {
    if (fatal) return;
    fatal = err;
    failWith(err);
    child?.child.kill('SIGKILL');
  };
  // Messages from the worker, taken one step at a time.
  const queue: WorkerMessage[] = [];
  let arrived: (() => void) | undefined;
  worker.on('message', (m: WorkerMessage) => {
    if (m.kind === 'progress') onProgress?.(m.entries);
    else { queue.push(m); arrived?.(); }
  });
  worker.on('error', (err) => fail(new SlipwayError('INTERNAL', `unpack worker failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => fail(new SlipwayError('INTERNAL', `unpack worker exited (${code})`)));
  const onAbort = () => fail(aborted());
  signal?.addEventListener('abort', onAbort, { once: true });

  const next = async (): Promise<WorkerMessage> => {
    while (queue.length === 0) {
      await Promise.race([new Promise<void>((r) => { arrived = r; }), failed]);
    }
    return queue.shift()!;
  };
  /** Runs a child process to its end, unless the worker fails or the caller aborts first. */
  const finish = async (r: Running) => {
    child = r;
    try {
      if (fatal) throw fatal;
      await Promise.race([r.done, failed]);
    } finally {
      if (fatal) r.child.kill('SIGKILL');
      await r.done.catch(() => undefined); // the child has exited before dest is removed
      child = undefined;
    }
  };

  try {
    // Pass 1 and GNU tar run at once; GNU tar's result counts only if pass 1 accepts.
    const extraction = extractWithGnuTar(fh.fd, dest);
    extraction.done.catch(() => undefined); // awaited below; until then a failure must not count as unhandled
    child = extraction;
    let scanned: WorkerMessage;
    try {
      scanned = await next();
      if (scanned.kind === 'refused') throw new UnsafeArchiveError(scanned.problems);
      if (scanned.kind === 'corrupt') throw corrupt(scanned.message);
      if (scanned.kind !== 'scanned') throw new SlipwayError('INTERNAL', scanned.kind === 'failed' ? scanned.message : `unexpected ${scanned.kind}`);
    } catch (err) {
      extraction.child.kill('SIGKILL');
      await extraction.done.catch(() => undefined); // GNU tar has exited before dest is removed
      throw err;
    }
    onProgress?.(scanned.entries);

    await finish(extraction);

    worker.postMessage({ kind: 'verify', dest } satisfies ParentMessage);
    const verified = await next();
    if (verified.kind === 'refused') throw new UnsafeArchiveError(verified.problems.map((p) => `after extraction, ${p}`));
    if (verified.kind !== 'verified') throw new SlipwayError('INTERNAL', verified.kind === 'failed' ? verified.message : `unexpected ${verified.kind}`);

    await chmod(dest, 0o755);
    await finish(syncFs(dest));
    return { entries: scanned.entries, bytes: scanned.bytes, ms: Math.round(performance.now() - started) };
  } catch (err) {
    worker.removeAllListeners('exit');
    await worker.terminate(); // stops a walk in progress before its tree is removed
    await rm(dest, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    worker.removeAllListeners('exit');
    await worker.terminate();
    await fh.close();
  }
}
