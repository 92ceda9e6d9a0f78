// The content-addressed store: apps/<app>/store/<sha256>.tar.gz. An upload
// streams to a temp file while it is hashed and counted, is checked against
// the announced digest and size, then renamed into place. An upload of a
// sha256 the store already has is answered at once. The gRPC Upload and the
// data port (agent/transport/) feed it.
import { Hasher, type HashJob } from './hasher.js';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, readFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError, invalid } from '../../common/errors.js';
import { appNameProblem, versionProblem, sha256Problem } from '../../common/names.js';
import { writeFileAtomic, fsyncDir } from '../../common/atomic.js';
import { AGENT_APP } from '../../common/agent-build.js';
import { testPause } from '../upgrade/test-pause.js';
import { AppPaths, tempEntryName } from '../paths.js';
import { checkDiskSpace, explainDiskFull, type DiskCheck } from './disk-space.js';
import type { ReleaseVerifier } from './signatures.js';
import type { Logger } from '../logger.js';

export interface StoredMeta {
  app: string;
  version: string;
  sha256: string;
  size: number;
  stored_at: string;
  /** Signed releases (agent/storage/signatures.ts): checked again before an unpack, and the manifest digest at unpack. */
  manifest_sha256?: string;
  key_id?: string;
  signature?: string;
}

/** What a client announces before it sends a release's bytes. */
export interface UploadRequest {
  app: string;
  version: string;
  sha256: string;
  size: number;
  /** Empty (or absent) for an unsigned release. */
  signature?: Buffer;
  key_id?: string;
  manifest_sha256?: string;
}

export interface StoreOptions {
  stateDir: string;
  /** limits.release_bytes: a bigger upload is refused before a byte is written. */
  maxBytes: number;
  log: Logger;
  /** Release signatures, checked before anything is stored; none: every release accepted (as in unit tests). */
  verifier?: ReleaseVerifier;
  /** The free-space check before an upload (agent/storage/disk-space.ts); none, no check. */
  disk?: DiskCheck;
}

export interface UploadCounters {
  bytes: number;
  uploads: number;
  deduplicated: number;
}

export class ReleaseStore {
  readonly counters: UploadCounters = { bytes: 0, uploads: 0, deduplicated: 0 };
  readonly hasher = new Hasher();
  private readonly stateDir: string;
  readonly maxBytes: number;
  private readonly log: Logger;
  readonly verifier?: ReleaseVerifier;
  readonly disk?: DiskCheck;

  constructor(opts: StoreOptions) {
    this.stateDir = opts.stateDir;
    this.maxBytes = opts.maxBytes;
    this.log = opts.log;
    this.verifier = opts.verifier;
    this.disk = opts.disk;
  }

  paths(app: string): AppPaths {
    return new AppPaths(this.stateDir, app);
  }

  /** The stored tarball's meta, or undefined if the store lacks the sha256. */
  async lookup(app: string, sha256: string): Promise<StoredMeta | undefined> {
    const p = this.paths(app);
    try {
      await stat(p.tarball(sha256));
      return JSON.parse(await readFile(p.tarballMeta(sha256), 'utf8')) as StoredMeta;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts an upload (gRPC's Upload, or BeginUpload for the data port):
   * checked, signature verified, disk space and dedupe. Either the stored
   * meta (counted as deduplicated) or the Upload, ready for write(). On a
   * refusal nothing is left open.
   */
  async open(req: UploadRequest): Promise<{ stored: StoredMeta } | { upload: Upload }> {
    const upload = new Upload(this, req.app, req.version, req.sha256, req.size, {
      signature: req.signature ?? Buffer.alloc(0), key_id: req.key_id ?? '', manifest_sha256: req.manifest_sha256 ?? '',
    });
    let stored: StoredMeta | undefined;
    try {
      stored = await upload.begin();
    } catch (err) {
      await upload.abort();
      throw err;
    }
    if (!stored) return { upload };
    await upload.abort(); // nothing was opened; drops the hash job
    this.counters.deduplicated++;
    this.log.info({ app: stored.app, version: stored.version, sha256: stored.sha256 }, 'upload skipped: release already stored');
    return { stored };
  }

  record(bytes: number): void {
    this.counters.bytes += bytes;
  }
}

/** Bytes an upload may hold in memory before it pauses the call (backpressure). */
const UPLOAD_WRITE_BUFFER = 16 << 20;

/**
 * Bytes gathered before they go to the hash worker and the file together.
 * A fetch over HTTPS arrives in TLS records of 16 KiB at most: handed on one
 * by one, each cost a message to the hash thread and a write on the thread
 * pool, each waking a thread (a 21 MB fetch through a 25 Mbit/s link: 1,282
 * of each: 0.39-0.47 s of CPU against curl's 0.12 s; batched, 0.23-0.33 s).
 */
export const UPLOAD_BATCH_BYTES = 1 << 20;

/** One upload in flight: a temp file, a hash and a byte count. */
export class Upload {
  private file?: WriteStream;
  private tmp?: string;
  private readonly hash: HashJob;
  private received = 0;
  private readonly paths: AppPaths;
  private signed?: Pick<StoredMeta, 'manifest_sha256' | 'key_id' | 'signature'>;
  /** Why the temp file could not be written, once that is known; writes and commit then throw it. */
  private failure?: Error;
  private failing?: Promise<void>;
  /** Who waits for a drain: woken by a failure too. */
  private readonly waiting: (() => void)[] = [];
  /** Bytes received and not yet handed to the hash and the file (under UPLOAD_BATCH_BYTES). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly store: ReleaseStore, readonly app: string, readonly version: string, readonly sha256: string, readonly size: number,
    private readonly sig: { signature: Buffer; key_id: string; manifest_sha256: string } = { signature: Buffer.alloc(0), key_id: '', manifest_sha256: '' }) {
    const problem = appNameProblem(app) ?? versionProblem(version) ?? sha256Problem(sha256);
    if (problem) throw invalid(problem);
    if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`upload size ${size} is not a positive number of bytes`);
    if (size > store.maxBytes) {
      throw new SlipwayError('SLIPWAY_ERR_TOO_LARGE', `release ${app} ${version} is ${size} bytes, over this agent's limit of ${store.maxBytes} bytes (limits.release_bytes)`);
    }
    this.paths = store.paths(app);
    this.hash = store.hasher.begin();
  }

  /** Returns the stored meta if the store already has this sha256, else opens the temp file. */
  async begin(): Promise<StoredMeta | undefined> {
    // Signatures first: an untrusted release is refused before the store is even looked at.
    const verified = this.store.verifier?.check({ app: this.app, version: this.version, sha256: this.sha256, ...this.sig });
    if (verified?.signed) this.signed = { manifest_sha256: this.sig.manifest_sha256, key_id: this.sig.key_id, signature: this.sig.signature.toString('base64') };
    const stored = await this.store.lookup(this.app, this.sha256);
    if (stored && this.signed && !stored.signature) {
      // Stored before unsigned (allow_unsigned); keep the signature that arrived now.
      const meta = { ...stored, ...this.signed };
      await writeFileAtomic(this.paths.tarballMeta(this.sha256), `${JSON.stringify(meta, null, 1)}\n`, 0o600);
      return meta;
    }
    if (stored) return stored;
    // Refused before a byte is written: room for the tarball, its unpacked copy and the reserve.
    if (this.store.disk) await checkDiskSpace(this.store.disk, `${this.app} ${this.version}`, this.size);
    await mkdir(this.paths.store, { recursive: true, mode: 0o700 }); // apps without root: app_user never reads the store
    this.tmp = join(this.paths.store, tempEntryName('upload'));
    // A 16 KiB buffer (the default) fills with every 1 MiB message, so each
    // one paused the call until the write finished and the client stalled on
    // HTTP/2 flow control; 16 MiB lets the disk write overlap the receive
    // while still bounding the memory an upload holds (bench/pipeline.ts: the
    // upload was about 25% faster on loopback).
    this.file = createWriteStream(this.tmp, { flags: 'wx', mode: 0o600, highWaterMark: UPLOAD_WRITE_BUFFER });
    this.file.on('error', (err) => void this.writeFailed(err));
    return undefined;
  }

  /**
   * The temp file could not be written (a full disk, most likely): the
   * partial file goes at once (so the disk is not kept full), and the upload
   * stops at its next write or drain wait with an error that says why,
   * instead of waiting for a drain that never comes.
   */
  private writeFailed(err: unknown): Promise<void> {
    this.failing ??= (async () => {
      const why = await explainDiskFull(err, this.store.disk?.path ?? this.paths.store, `${this.app} ${this.version} was not stored (the partial upload is removed)`);
      this.hash.drop();
      if (this.tmp) await rm(this.tmp, { force: true });
      // Told only once the partial file is gone: the caller hears of a disk that is no longer kept full.
      this.failure = why instanceof Error ? why : new Error(String(why));
      for (const wake of this.waiting.splice(0)) wake();
    })();
    return this.failing;
  }

  write(data: Buffer): boolean {
    if (this.failure) throw this.failure;
    if (!this.file) throw invalid('data arrived before the upload was ready');
    this.received += data.length;
    if (this.received > this.size) {
      throw new SlipwayError('SLIPWAY_ERR_UPLOAD_MISMATCH', `upload of ${this.app} ${this.version} sent more than the announced ${this.size} bytes; nothing was stored`);
    }
    this.store.record(data.length);
    // Held until the batch is full: Node never reuses a Buffer it has handed over ('data' events, gRPC messages).
    this.pending.push(data);
    this.pendingBytes += data.length;
    return this.pendingBytes >= UPLOAD_BATCH_BYTES ? this.flushBatch(this.file) : true;
  }

  /** The bytes held so far to the hash and the file; false when the file asks to wait for a drain. */
  private flushBatch(file: WriteStream): boolean {
    if (this.pendingBytes === 0) return true;
    const batch = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(batch);
    return file.write(batch);
  }

  /** Calls fn once the file takes more data, or once it failed (the next write then throws why). */
  onDrain(fn: () => void): void {
    let called = false;
    const once = () => { if (!called) { called = true; fn(); } };
    if (this.failure) return queueMicrotask(once);
    this.file?.once('drain', once);
    this.waiting.push(once);
  }

  /** Checks the size and digest, then stores the tarball under its sha256; its meta is the answer. */
  async commit(): Promise<StoredMeta> {
    if (!this.file || !this.tmp) throw invalid('the upload ended before it began');
    const file = this.file;
    try {
      if (this.failure) throw this.failure;
      this.flushBatch(file);
      await new Promise<void>((res, rej) => file.end((err?: Error | null) => (err ? rej(err) : res())));
    } catch (err) {
      await this.writeFailed(err);
      throw this.failure ?? err;
    }
    if (this.received !== this.size) {
      await this.abort();
      throw new SlipwayError('SLIPWAY_ERR_UPLOAD_MISMATCH', `upload of ${this.app} ${this.version} ended after ${this.received} of ${this.size} bytes; nothing was stored`);
    }
    const digest = await this.hash.digest();
    if (digest !== this.sha256) {
      await this.abort();
      throw new SlipwayError('SLIPWAY_ERR_UPLOAD_MISMATCH', `the received bytes of ${this.app} ${this.version} have sha256 ${digest}, not ${this.sha256} as announced; nothing was stored`);
    }
    const fh = await open(this.tmp, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
    if (this.app === AGENT_APP) await testPause('upload');
    const meta: StoredMeta = { app: this.app, version: this.version, sha256: this.sha256, size: this.size, stored_at: new Date().toISOString(), ...this.signed };
    // Meta first, tarball last: a tarball in store/ always has its meta.
    await writeFileAtomic(this.paths.tarballMeta(this.sha256), `${JSON.stringify(meta, null, 1)}\n`, 0o600);
    await rename(this.tmp, this.paths.tarball(this.sha256));
    await fsyncDir(this.paths.store);
    this.store.counters.uploads++;
    return meta;
  }

  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.drop();
    const file = this.file;
    // The stream opens its file asynchronously: removing it before the open has happened would leave the
    // file behind once it does. Destroyed, the stream closes only after its open: the file exists by then.
    if (file && !file.closed) await new Promise<void>((resolve) => { file.once('close', () => resolve()); file.destroy(); });
    if (this.tmp) await rm(this.tmp, { force: true });
  }
}
