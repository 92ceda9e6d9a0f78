// Pass 1: gunzip the tarball here (counting every decompressed byte), read
// the tar stream's headers with TarReader (tar-reader.ts: bodies are
// skipped, never parsed) and check every entry and metadata record against
// ArchiveRules. Nothing is written. Runs inside the unpack worker.
//
// `onChecked(tar)` hands over the decompressed tar of each 1 MiB of
// compressed input once every header in it was accepted: the parent
// feeds GNU tar exactly these bytes (index.ts), so GNU tar never reads a
// byte pass 1 has not accepted, and the tarball is decompressed only once.
// After the first problem it is never called again. It may return a promise:
// scanning waits for it (backpressure, when GNU tar is slower than pass 1).
import { read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { ArchiveRules } from './rules.js';
import { TarReader } from './tar-reader.js';

/** Where pass 1's time went, in ms (the bench's profile): reading the tarball, zlib, the tar reader + the rules, waiting for GNU tar to take what was checked. */
export interface ScanProfile { readMs: number; inflateMs: number; checkMs: number; handOverMs: number }

export type ScanOutcome =
  | { ok: true; rules: ArchiveRules }
  | { ok: false; kind: 'refused'; problems: string[] }
  | { ok: false; kind: 'corrupt'; message: string };

/** Compressed bytes read at a time. */
const CHUNK = 1 << 20;
/**
 * Decompressed bytes per trip to libuv's pool. Each trip is a thread hand-off
 * both ways; at 64 KiB (7,000 trips for the bench's 458 MB) the waits for the
 * scheduler added up to most of pass 1's time on a loaded machine.
 */
const INFLATE_CHUNK = 512 << 10;
/** Decompressed bytes zlib may have ready ahead of the check. */
const INFLATE_AHEAD = 2 << 20;
/**
 * Checked bytes are handed over each time zlib has taken this much more
 * compressed input (about 4 MiB of tar for a release of source code): a
 * highly compressible hostile archive is checked far ahead of GNU tar.
 */
const HANDOVER_INPUT = CHUNK;
/** After the first problem, decompressed bytes still checked for further problems (the message lists up to 20). */
const PROBLEM_TAIL = 4 << 20;

/** `fd` is the tarball, opened once by the caller: GNU tar reads the same file, whatever happens to its path. `rules` is new: it receives the entries. */
export async function scanTarball(
  fd: number, rules: ArchiveRules, onProgress: (entries: number) => void, onChecked: (tar: Buffer[]) => void | Promise<void> = () => undefined,
  profile: ScanProfile = { readMs: 0, inflateMs: 0, checkMs: 0, handOverMs: 0 },
): Promise<ScanOutcome> {
  const magic = Buffer.alloc(2);
  readSync(fd, magic, 0, 2, 0); // positional: nothing here moves the fd's offset
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return { ok: false, kind: 'corrupt', message: 'not gzip data' };

  let corrupt: string | undefined;
  /** Stop reading: a limit was hit, too many problems, or the gzip/tar stream is broken. */
  let stop = false;
  let decompressed = 0;
  let head = Buffer.alloc(0);
  /** Decompressed bytes not yet handed over (zlib never rewrites an output chunk once it was emitted). */
  let out: Buffer[] = [];
  let outBytes = 0;
  const reader = new TarReader({
    entry: (h) => {
      rules.add(h);
      if (rules.entries % 1000 === 0) onProgress(rules.entries);
      if (rules.full) { stop = true; reader.halt(); }
    },
    meta: (text) => { rules.addMeta(text); if (rules.full) { stop = true; reader.halt(); } },
    global: (fields) => rules.checkGlobal(fields),
    refuse: (message) => rules.refuse(message),
  });

  /** One decompressed chunk, in order: counted, checked for a nested gzip stream, parsed (every header in it checked). */
  const check = (c: Buffer) => {
    decompressed += c.length;
    if (head.length < 2) {
      head = Buffer.concat([head, c.subarray(0, 2)]);
      // Some readers (node-tar) gunzip a nested stream that GNU tar reads as tar: they would see different archives.
      if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) { corrupt ??= 'a gzip stream inside the gzip stream'; stop = true; return; }
    }
    // After the end-of-archive blocks the reader reads nothing: what follows is counted, not parsed.
    const t = performance.now();
    reader.write(c);
    if (reader.corrupt !== undefined) corrupt ??= reader.corrupt;
    profile.checkMs += performance.now() - t;
    out.push(c);
    outBytes += c.length;
    if (decompressed > rules.maxTarBytes) {
      rules.limitHit = true;
      rules.refuse(`it decompresses to more than its headers account for (over ${decompressed} bytes of tar for ${rules.accounted} described: a gzip bomb)`);
    }
    if (rules.full || corrupt !== undefined) stop = true;
  };

  /**
   * The accepted bytes, as buffers that own their whole memory (so they can
   * be moved to another thread without a copy). zlib gives out slices of a
   * chunkSize buffer and starts a new buffer once one is full; a slice that
   * is a whole buffer is moved as it is (zlib no longer writes to it), the
   * rest (at the ends of zlib's input writes) is copied.
   */
  const handOver = async () => {
    if (outBytes === 0) return;
    const moved: Buffer[] = [];
    let partial: Buffer[] = [];
    const flushPartial = () => {
      if (partial.length === 0) return;
      const n = partial.reduce((sum, b) => sum + b.length, 0);
      const copy = Buffer.allocUnsafeSlow(n);
      let at = 0;
      for (const b of partial) at += b.copy(copy, at);
      moved.push(copy);
      partial = [];
    };
    for (const c of out) {
      if (c.byteOffset === 0 && c.length === c.buffer.byteLength && c.length === INFLATE_CHUNK) {
        flushPartial();
        moved.push(c);
      } else partial.push(c);
    }
    flushPartial();
    out = [];
    outBytes = 0;
    await onChecked(moved);
  };

  // zlib inflates in libuv's pool AHEAD of this thread, up to INFLATE_AHEAD
  // bytes of output, while this thread checks what it gave before (the two
  // overlap); past that, zlib waits (bounded memory, also for a gzip bomb).
  // (Node's zlib passes stream options on to its Transform; @types/node's ZlibOptions does not list them.)
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK, readableHighWaterMark: INFLATE_AHEAD } as ZlibOptions);
  let zlibError: string | undefined;
  gunzip.on('error', (err: Error) => { zlibError ??= `gzip: ${err.message}`; });

  // Positional reads of the caller's fd (never closed or moved here), written to zlib as it takes them.
  const readAt = promisify(read);
  let readError: unknown;
  const reading = (async () => {
    for (let pos = 0; !stop && corrupt === undefined && !gunzip.destroyed;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const t = performance.now();
      const { bytesRead } = await readAt(fd, buf, 0, buf.length, pos);
      profile.readMs += performance.now() - t;
      if (bytesRead === 0) break;
      pos += bytesRead;
      if (stop || gunzip.destroyed) return;
      if (!gunzip.write(buf.subarray(0, bytesRead))) {
        await new Promise<void>((resolve) => {
          const done = () => { gunzip.off('drain', done); gunzip.off('close', done); resolve(); };
          gunzip.on('drain', done);
          gunzip.on('close', done);
        });
      }
    }
    if (!stop && !gunzip.destroyed) gunzip.end();
  })().catch((err: unknown) => {
    readError = err;
    gunzip.destroy(); // ends the check loop below
  });

  /** Output checked since a problem was found: a little more is read for the message, then no more (bounded work). */
  let afterProblem = 0;
  /** Compressed bytes zlib had taken at the last hand-over. */
  let handedAt = 0;
  try {
    let t = performance.now();
    for await (const c of gunzip as AsyncIterable<Buffer>) {
      profile.inflateMs += performance.now() - t;
      check(c);
      if (rules.problems.length > 0) {
        afterProblem += c.length;
        if (afterProblem > PROBLEM_TAIL) stop = true;
      } else if (gunzip.bytesWritten - handedAt >= HANDOVER_INPUT && !stop) {
        t = performance.now();
        handedAt = gunzip.bytesWritten;
        await handOver();
        profile.handOverMs += performance.now() - t;
      }
      if (stop) break;
      t = performance.now();
    }
  } catch (err) {
    zlibError ??= `gzip: ${err instanceof Error ? err.message : String(err)}`;
  }
  // A broken gzip stream counts unless this side had stopped reading (a refusal, a nested stream).
  if (zlibError !== undefined && !stop) corrupt ??= zlibError;
  stop ||= corrupt !== undefined || rules.problems.length > 0;
  gunzip.destroy();
  await reading;
  if (readError !== undefined) throw readError;
  if (!stop) {
    reader.end();
    if (reader.corrupt !== undefined) corrupt ??= reader.corrupt;
  }
  // The last bytes zlib gave out at its end (they were checked like the rest, below).
  const tail = rules.problems.length === 0 && corrupt === undefined && !stop;
  if (rules.problems.length > 0) return { ok: false, kind: 'refused', problems: rules.problems };
  if (corrupt !== undefined) return { ok: false, kind: 'corrupt', message: corrupt };
  if (tail) await handOver();
  rules.checkSymlinks();
  if (rules.problems.length > 0) return { ok: false, kind: 'refused', problems: rules.problems };
  onProgress(rules.entries);
  return { ok: true, rules };
}
