// Longer than ~300 lines on purpose: one streaming pass (gunzip, check each entry, feed GNU tar, verify, flush) whose steps share the pipeline's state; the rules themselves live in rules.ts and scan.ts.
// The agent's release unpacker: validate, extract with GNU tar, verify, sync.
//
// Why not node-tar's extractor: it costs about 1 ms per entry (lstat, mkdir
// and path reservations through the libuv pool), ~13× GNU tar on a
// node_modules tree (docs: dependencies.md §3.7). Nor its parser (~30 µs
// per entry); pass 1 reads headers with its own TarReader (tar-reader.ts):
//
//   pass 1  worker thread: gunzips the tarball itself (counting every
//           byte; zlib inflates in libuv's pool up to 2 MiB ahead of the
//           check, so inflating and checking overlap), TarReader reads
//           the headers as GNU tar reads them (bodies are skipped)
//           and ArchiveRules checks every entry and metadata record (types,
//           "..", absolute paths, backslashes, drive letters, names that
//           collide after Unicode normalisation or case folding, symlink
//           targets resolved through the archive's own tree, writes through
//           symlinks, duplicates, sizes, PAX keywords GNU tar reads
//           differently, limits, and decompressed bytes beyond what the
//           headers account for).
//   pass 2  child process, AT THE SAME TIME as pass 1 (two cores): GNU tar
//           extracts into `dest` (created 0700 and owned by the agent, so no
//           other user can reach a half-written tree), --no-same-owner,
//           umask 022 + --no-same-permissions, never -P. It reads plain
//           tar from a pipe that this module writes ONLY WITH BYTES PASS 1
//           HAS CHECKED: once 1 MiB more of decompressed tar has been
//           parsed and every header in it accepted, the worker moves
//           those decompressed bytes here ('checked') and they are passed
//           on. GNU tar therefore never reads a byte pass 1 has not
//           accepted, and the tarball is decompressed once, not twice. At
//           most IN_FLIGHT_MAX (32 MiB) of checked bytes wait for GNU tar:
//           the worker waits for 'credit' when GNU tar is the slower side. Nothing it writes is
//           used unless pass 1 accepts the whole archive; if pass 1 refuses,
//           GNU tar is killed and `dest` removed.
//   pass 3  worker thread: an lstat walk compares the result with pass 1's
//           tree (same paths, types, file sizes, link targets, no hard links,
//           symlinks' realpaths inside `dest`) and sets every mode to exactly
//           0755 (directories, files with any x bit) or 0644. This catches
//           any difference between the two tar parsers instead of trusting
//           either. It begins while GNU tar still extracts (early-verify.ts):
//           the worker looks at each file GNU tar has finished (by the bytes
//           GNU tar has written, /proc/PID/io) while it waits for GNU tar to
//           take more; with --keep-old-files nothing GNU tar does later can
//           change such a file, so the walk after GNU tar only sees it listed.
//   then    chmod 0755 on `dest`, one syncfs (`sync -f dest`). While GNU
//           tar still extracts, a syncfs starts in the background each
//           WRITEBACK_STEP (64 MiB) of checked tar fed to it, one at a time
//           ("writeback ahead"), so the disk writes while the rest is being
//           decompressed and extracted and the final syncfs finds little
//           left. flush: 'tree' fsyncs every file and directory written
//           instead (flush.ts): it touches nothing else on the host but
//           measured slower, even beside another writer (docs/benchmarks.md).
//
// Why running GNU tar before pass 1 has finished cannot write outside
// `dest`: it only ever sees entries pass 1 has accepted one by one (the
// checks that need the whole archive, such as symlink chains, come at the
// end). And even for bytes it did see: without -P, GNU tar strips leading
// "/" from member and hard-link names and skips members whose names contain
// "..", and it extracts a symlink whose target is absolute or holds ".." as
// a placeholder file, turning it into the link only at the very end, so no
// later member can be written through it.
//
// Why it cannot fill the disk first (a gzip bomb, a huge entry): the bytes
// GNU tar writes are the bodies of entries whose headers pass 1 accepted,
// and pass 1 refuses an entry over limits.maxBytes, a running total over
// it, and any decompressed output beyond what the headers account for
// (+1 MiB: end blocks, record padding), before passing that chunk on. So GNU
// tar writes at most maxBytes (the upload already reserved twice the
// release's size plus disk_reserve_bytes) and pass 1 decompresses at most
// about that much, in 64 KiB pieces (bounded memory), before refusing. A
// refusal stops the feeding at once; GNU tar is killed when pass 1 reports.
//
// Measured: docs/benchmarks.md, "Unpack" (bench/unpack.ts: pairs of ours
// and GNU tar + sync -f, in alternating order, median of the per-run ratios,
// with a profile of each run). Feeding GNU tar the compressed bytes instead
// (so that it decompressed a second time) measured 2.08× GNU tar on tmpfs:
// both gunzips competed for the two cores.
//
// Any failure (refused content, corrupt gzip/tar, GNU tar error, abort)
// removes `dest` entirely before the error is thrown.
import { startWorker, entryUrl } from '../../worker-file.js';
import { mkdir, rm, chmod, open, type FileHandle } from 'node:fs/promises';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { SlipwayError } from '../../../common/errors.js';
import { DEFAULT_LIMITS, type UnpackLimits } from './rules.js';
import { checkGnuTar, extractWithGnuTar, syncFs, syncPaths, type Running } from './gnu-tar.js';
import { flushBatches } from './flush.js';
import type { WorkerInput, WorkerMessage, ParentMessage } from './worker.js';

export { DEFAULT_LIMITS, type UnpackLimits };

/**
 * Where the time went (ms). Pass 1's figures are summed over its chunks
 * (read, zlib, the tar reader + rules, waiting for GNU tar to take the checked
 * bytes); the others are points on the wall clock from the start: pass 1
 * done, GNU tar done, then the verification walk and the flush.
 */
export interface UnpackProfile {
  readMs: number; inflateMs: number; checkMs: number; handOverMs: number;
  scannedAt: number; extractedAt: number; verifyMs: number; flushMs: number;
  /** Threads the verification walk ran on (two from PARALLEL_VERIFY_MIN entries). */
  verifyThreads: number;
  /** Files pass 3 found as described while GNU tar still ran (early-verify.ts): the walk after it only saw them listed. */
  verifiedEarly: number;
  /** syncfs runs started ahead, while GNU tar was still extracting (flush 'fs'). */
  writebacksAhead: number;
}

export interface UnpackResult { entries: number; bytes: number; ms: number; profile: UnpackProfile }

/**
 * The durability step: 'fs' one syncfs of the file system (the default,
 * with writeback ahead: see WRITEBACK_STEP), 'tree' an fsync of every file
 * and directory written (flush.ts; slower in every measurement so far, even
 * with another writer on the host: docs/benchmarks.md), 'none' nothing
 * (benchmarks only: the result is not durable, so no completion marker may
 * follow it).
 */
export type FlushMode = 'tree' | 'fs' | 'none';

/**
 * Writeback ahead (flush 'fs'): each time this many more checked bytes went
 * to GNU tar, a syncfs starts in the background (one at a time), so the
 * disk writes while the rest is still being decompressed and extracted, and
 * the final syncfs finds little left. The final one is what makes the
 * release durable; these only move the work earlier.
 */
export const WRITEBACK_STEP = 64 * 1024 * 1024;

/**
 * From this many entries pass 3 walks on two threads (a second worker, the
 * verify helper, started while GNU tar finishes): below it, starting the
 * helper costs more than it saves.
 */
export const PARALLEL_VERIFY_MIN = 20_000;

export class UnsafeArchiveError extends SlipwayError {
  constructor(public readonly problems: string[]) {
    const shown = problems.slice(0, 3).join('; ');
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    super('SLIPWAY_ERR_UNSAFE_ARCHIVE', `release tarball refused: ${shown}${more}`);
    this.name = 'UnsafeArchiveError';
  }
}

const corrupt = (detail: string) => new SlipwayError('SLIPWAY_ERR_CORRUPT_ARCHIVE', `release tarball is corrupt: ${detail}`);

export async function unpackTarball(
  tarball: string,
  dest: string,
  opts: {
    limits?: Partial<UnpackLimits>; signal?: AbortSignal; onProgress?: (entries: number) => void;
    flush?: FlushMode; /** Tests: WRITEBACK_STEP. */ writebackStep?: number; /** Tests: PARALLEL_VERIFY_MIN. */ parallelVerifyMin?: number;
    /** Tests: the verify helper once started (to end its thread for real). */ onVerifyHelper?: (helper: Worker) => void;
  } = {},
): Promise<UnpackResult> {
  const started = performance.now();
  const { signal, onProgress } = opts;
  const aborted = () => new SlipwayError('SLIPWAY_ERR_CANCELLED', 'unpacking was aborted');
  if (signal?.aborted) throw aborted();
  await checkGnuTar();
  // Every await before the abort listener below is in place is followed by a check: an abort
  // signalled meanwhile fires no event for a listener added later.
  if (signal?.aborted) throw aborted();
  // Opened once: pass 1 and GNU tar read the same file even if its path is replaced meanwhile.
  let fh: FileHandle;
  try {
    fh = await open(tarball, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SlipwayError('SLIPWAY_ERR_RELEASE_NOT_FOUND', `release tarball ${tarball} does not exist`);
    throw err;
  }
  try {
    if (signal?.aborted) throw aborted();
    await mkdir(dest, { mode: 0o700 });
  } catch (err) {
    await fh.close();
    // Never remove a directory we did not create.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SlipwayError('SLIPWAY_ERR_ALREADY_EXISTS', `unpack target ${dest} already exists`);
    throw err;
  }

  const workerUrl = entryUrl('unpackWorker', new URL('./worker.js', import.meta.url));
  const worker = startWorker(workerUrl, { fd: fh.fd, limits: opts.limits ?? {} } satisfies WorkerInput);
  /** The verify helper (a second instance of the worker), for a large tree. */
  let helper: Worker | undefined;
  /** Child processes running (GNU tar, sync): killed by the first fatal event. */
  const children = new Set<Running>();
  const flush = opts.flush ?? 'fs';
  /** Bytes written to GNU tar so far, the mark at which the next writeback ahead starts, and the one running. */
  let fed = 0;
  const step = opts.writebackStep ?? WRITEBACK_STEP;
  let nextAhead = step;
  let ahead: Running | undefined;
  let writebacksAhead = 0;
  const writebackAhead = () => {
    if (flush !== 'fs' || ahead || fed < nextAhead || fatal) return;
    nextAhead = fed + step;
    writebacksAhead++;
    const r = syncFs(dest);
    ahead = r;
    children.add(r);
    const done = () => { children.delete(r); ahead = undefined; };
    r.done.then(done, done); // its failure is not the unpack's: the final syncfs reports the disk's errors
  };
  // The first fatal event (worker crash, abort) rejects `failed` and kills GNU tar or sync.
  let fatal: Error | undefined;
  let failWith: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { failWith = reject; });
  failed.catch(() => undefined);
  // Checked tar bytes waiting for GNU tar (pass 1's 'checked'), whether pass 1 has accepted everything, and whether to stop feeding.
  const ready: Buffer[] = [];
  let allChecked = false;
  let closed = false;
  let wake: (() => void) | undefined;
  const poke = () => { const w = wake; wake = undefined; w?.(); };
  const fail = (err: Error) => {
    if (fatal) return;
    fatal = err;
    closed = true;
    poke();
    failWith(err);
    for (const c of children) c.child.kill('SIGKILL');
  };
  // Messages from the worker, taken one step at a time.
  const queue: WorkerMessage[] = [];
  let arrived: (() => void) | undefined;
  worker.on('message', (m: WorkerMessage) => {
    if (m.kind === 'progress') onProgress?.(m.entries);
    else if (m.kind === 'checked') { for (const ab of m.tar) ready.push(Buffer.from(ab)); poke(); }
    else { queue.push(m); arrived?.(); }
  });
  worker.on('error', (err) => fail(new SlipwayError('SLIPWAY_ERR_INTERNAL', `unpack worker failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => fail(new SlipwayError('SLIPWAY_ERR_INTERNAL', `unpack worker exited (${code})`)));
  const onAbort = () => fail(aborted());
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // during the mkdir above

  const next = async (): Promise<WorkerMessage> => {
    while (queue.length === 0) {
      await Promise.race([new Promise<void>((r) => { arrived = r; }), failed]);
    }
    return queue.shift()!;
  };
  /** Runs a child process to its end, unless the worker fails or the caller aborts first. */
  const finish = async (r: Running) => {
    children.add(r);
    try {
      if (fatal) throw fatal;
      await Promise.race([r.done, failed]);
    } finally {
      if (fatal) r.child.kill('SIGKILL');
      await r.done.catch(() => undefined); // the child has exited before dest is removed
      children.delete(r);
    }
  };

  try {
    // Pass 1 and GNU tar run at once; GNU tar's result counts only if pass 1 accepts.
    const extraction = extractWithGnuTar(dest);
    extraction.done.catch(() => undefined); // awaited below; until then a failure must not count as unhandled
    children.add(extraction);
    const stdin = extraction.child.stdin!;
    // Pass 3 may begin on the files GNU tar has finished (its pid is tar's own: sh exec'd it).
    if (extraction.child.pid !== undefined) worker.postMessage({ kind: 'tar', dest, pid: extraction.child.pid } satisfies ParentMessage);
    stdin.on('error', () => { closed = true; poke(); }); // GNU tar exited early: its own error is in extraction.done
    const feeding = (async () => {
      // Only what pass 1 has accepted, in the order it came; each write's bytes are credited back to the worker once GNU tar took them.
      for (;;) {
        while (!closed && ready.length === 0 && !allChecked) await new Promise<void>((r) => { wake = r; });
        if (closed) return;
        const buf = ready.shift();
        if (!buf) { stdin.end(); return; }
        const ok = stdin.write(buf);
        fed += buf.length;
        writebackAhead();
        if (!ok) {
          const drained = new Promise<void>((r) => stdin.once('drain', r));
          while (!closed && stdin.writableNeedDrain) await Promise.race([drained, new Promise<void>((r) => { wake = r; })]);
        }
        if (!closed) worker.postMessage({ kind: 'credit', bytes: buf.length } satisfies ParentMessage);
      }
    })();
    feeding.catch((err: unknown) => fail(new SlipwayError('SLIPWAY_ERR_INTERNAL', `feeding GNU tar: ${err instanceof Error ? err.message : String(err)}`)));
    let scanned: WorkerMessage;
    try {
      scanned = await next();
      if (scanned.kind === 'refused') throw new UnsafeArchiveError(scanned.problems);
      if (scanned.kind === 'corrupt') throw corrupt(scanned.message);
      if (scanned.kind !== 'scanned') throw new SlipwayError('SLIPWAY_ERR_INTERNAL', scanned.kind === 'failed' ? scanned.message : `unexpected ${scanned.kind}`);
      allChecked = true;
      poke();
    } catch (err) {
      closed = true;
      poke();
      extraction.child.kill('SIGKILL');
      await extraction.done.catch(() => undefined); // GNU tar has exited before dest is removed
      throw err;
    }
    onProgress?.(scanned.entries);
    if (scanned.entries >= (opts.parallelVerifyMin ?? PARALLEL_VERIFY_MIN)) {
      // Started while GNU tar finishes; the worker sends it its share of pass 3 over a port of their own.
      const { port1, port2 } = new MessageChannel();
      helper = startWorker(workerUrl, { role: 'verify-helper', port: port2 } satisfies WorkerInput, [port2]);
      // Its failure is not the unpack's: told that its thread ended, the worker walks the helper's share itself.
      helper.on('error', () => undefined);
      helper.on('exit', () => worker.postMessage({ kind: 'helper-gone' } satisfies ParentMessage));
      worker.postMessage({ kind: 'helper', port: port1 } satisfies ParentMessage, [port1]);
      opts.onVerifyHelper?.(helper);
    }

    const scannedAt = performance.now() - started;
    await finish(extraction);
    const extractedAt = performance.now() - started;

    worker.postMessage({ kind: 'verify', dest } satisfies ParentMessage);
    const verified = await next();
    if (verified.kind === 'refused') throw new UnsafeArchiveError(verified.problems.map((p) => `after extraction, ${p}`));
    if (verified.kind !== 'verified') throw new SlipwayError('SLIPWAY_ERR_INTERNAL', verified.kind === 'failed' ? verified.message : `unexpected ${verified.kind}`);

    if (fatal) throw fatal;
    await chmod(dest, 0o755);
    const flushStarted = performance.now();
    if (ahead) await ahead.done.catch(() => undefined);
    if (flush === 'fs') await finish(syncFs(dest));
    else if (flush === 'tree') {
      worker.postMessage({ kind: 'paths' } satisfies ParentMessage);
      const listed = await next();
      if (listed.kind !== 'paths') throw new SlipwayError('SLIPWAY_ERR_INTERNAL', listed.kind === 'failed' ? listed.message : `unexpected ${listed.kind}`);
      // Every batch is started (and so killed on a failure) before any is awaited.
      const running = flushBatches(listed.paths.split('\0')).map((batch) => syncPaths(dest, batch));
      const settled = await Promise.allSettled(running.map((r) => finish(r)));
      const failure = settled.find((x) => x.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
    }
    if (fatal) throw fatal; // an abort during the flush: the caller asked for nothing to be left
    const profile: UnpackProfile = {
      ...scanned.profile, scannedAt, extractedAt, verifyMs: verified.ms, verifyThreads: verified.threads, verifiedEarly: verified.early, flushMs: performance.now() - flushStarted, writebacksAhead,
    };
    return { entries: scanned.entries, bytes: scanned.bytes, ms: Math.round(performance.now() - started), profile };
  } catch (err) {
    for (const c of children) c.child.kill('SIGKILL');
    await Promise.all([...children].map((c) => c.done.catch(() => undefined))); // no child still works in the tree
    worker.removeAllListeners('exit');
    helper?.removeAllListeners('exit');
    await Promise.all([worker.terminate(), helper?.terminate()]); // stops a walk in progress before its tree is removed
    await rm(dest, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    worker.removeAllListeners('exit');
    helper?.removeAllListeners('exit');
    await Promise.all([worker.terminate(), helper?.terminate()]);
    await fh.close();
  }
}
