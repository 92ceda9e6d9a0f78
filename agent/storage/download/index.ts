// A release pulled from an artifact store into the store (agent/storage/
// store.ts), under the upload's rules: the meta is checked first (names,
// size, signature, disk space, dedupe: store.open), the bytes go through the
// same Upload (temp file, sha256 while streaming, size), and commit() checks
// the digest before the rename. A connection that drops or stalls is resumed
// with a Range request from the bytes already hashed; a store that ignores
// Range has the bytes already held skipped. A store serving other bytes gets
// them refused by the digest (and so by the signature over it).
import type { IncomingMessage } from 'node:http';
import { SlipwayError } from '../../../common/errors.js';
import type { ReleaseStore, StoredMeta, Upload, UploadRequest } from '../store.js';
import { get, fetchError, redactUrl, RetryableFetchError, type StoreHttpSettings } from '../../../common/store-http.js';
import type { Logger } from '../../logger.js';

export interface FetchSettings extends StoreHttpSettings {
  /** No byte for this long: the connection is dropped and the download resumed. */
  stallMs: number;
  /** Requests in a row that bring no byte before the download gives up. */
  attempts: number;
  /** Wait before the n-th retry (from 1); tests pass a short one. */
  backoffMs?: (n: number) => number;
}

export interface FetchProgressInfo {
  received: number;
  size: number;
  downloaded: number;
  resumes: number;
}

export interface FetchOutcome {
  meta: StoredMeta;
  alreadyStored: boolean;
  downloaded: number;
  resumes: number;
}

const defaultBackoff = (n: number) => Math.min(500 * 2 ** (n - 1), 8000);

/** Pure: the start of a 206's Content-Range (`bytes 100-199/200` → 100), or undefined. */
export function contentRangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

export class ReleaseFetcher {
  constructor(private readonly store: Pick<ReleaseStore, 'open'>, private readonly settings: () => FetchSettings, private readonly log: Logger) {}

  /** Fetches url into the store; onProgress as bytes arrive. signal: the caller went (the partial file is removed). */
  async fetch(req: UploadRequest, url: string, onProgress: (p: FetchProgressInfo) => void, signal: AbortSignal): Promise<FetchOutcome> {
    const opened = await this.store.open(req);
    if ('stored' in opened) return { meta: opened.stored, alreadyStored: true, downloaded: 0, resumes: 0 };
    const upload = opened.upload;
    const settings = this.settings();
    const state = { received: 0, downloaded: 0, resumes: 0 };
    const log = this.log.child({ app: req.app, version: req.version, sha256: req.sha256, url: redactUrl(url) });
    try {
      let idle = 0;
      while (state.received < req.size) {
        if (signal.aborted) throw new SlipwayError('SLIPWAY_ERR_CANCELLED', 'fetch cancelled by the client; the partial download is removed');
        const before = state.received;
        try {
          await this.once(upload, url, req.size, state, settings, onProgress, signal);
        } catch (err) {
          if (!(err instanceof RetryableFetchError) || signal.aborted) throw err;
          idle = state.received > before ? 1 : idle + 1;
          if (idle >= settings.attempts) {
            throw fetchError(`${err.message}; gave up after ${settings.attempts} attempts without a byte (${state.received} of ${req.size} bytes held, removed)`);
          }
          state.resumes++;
          log.warn({ err: err.message, received: state.received, resumes: state.resumes }, 'fetch interrupted; resuming');
          await sleep((settings.backoffMs ?? defaultBackoff)(idle), signal);
        }
      }
      const meta = await upload.commit();
      log.info({ downloaded: state.downloaded, resumes: state.resumes }, 'release fetched from the artifact store');
      return { meta, alreadyStored: false, downloaded: state.downloaded, resumes: state.resumes };
    } catch (err) {
      await upload.abort();
      throw err;
    }
  }

  /** One request: its body from state.received on into the upload, until the size or a failure. */
  private async once(upload: Upload, url: string, size: number, state: { received: number; downloaded: number; resumes: number },
    settings: FetchSettings, onProgress: (p: FetchProgressInfo) => void, signal: AbortSignal): Promise<void> {
    const { res, req, where } = await get(url, state.received, settings);
    // Bytes of the body to drop: a store that ignores Range answers 200 with the whole file.
    let skip = 0;
    if (res.statusCode === 206) {
      const start = contentRangeStart(res.headers['content-range']);
      if (start !== state.received) {
        req.destroy();
        throw fetchError(`the artifact store answered a range from ${start ?? '?'} when ${state.received} was asked (${where})`);
      }
    } else {
      skip = state.received;
      const length = res.headers['content-length'];
      if (length !== undefined && Number(length) !== size) {
        req.destroy();
        throw new SlipwayError('SLIPWAY_ERR_UPLOAD_MISMATCH', `the artifact store serves ${length} bytes at ${where}, but the release is ${size} bytes; nothing was stored`);
      }
    }
    await pump(res, upload, size, state, skip, settings.stallMs, signal, () => onProgress({ received: state.received, size, downloaded: state.downloaded, resumes: state.resumes }), where);
  }
}

/** The body into the upload with backpressure; a stall (no byte for stallMs while not paused) drops the connection. */
function pump(res: IncomingMessage, upload: Upload, size: number, state: { received: number; downloaded: number }, skip: number,
  stallMs: number, signal: AbortSignal, progress: () => void, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err || state.received < size) res.destroy();
      if (err) reject(err);
      else resolve();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => settle(new RetryableFetchError(`no byte from ${where} for ${Math.round(stallMs / 1000)} s`)), stallMs);
    };
    const onAbort = () => settle(new SlipwayError('SLIPWAY_ERR_CANCELLED', 'fetch cancelled by the client; the partial download is removed'));
    signal.addEventListener('abort', onAbort);
    arm();
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      state.downloaded += chunk.length;
      let data = chunk;
      if (skip > 0) {
        const drop = Math.min(skip, data.length);
        skip -= drop;
        data = data.subarray(drop);
        if (data.length === 0) return arm();
      }
      try {
        state.received += data.length;
        const ok = upload.write(data);
        progress();
        if (state.received >= size) return settle();
        if (!ok) {
          clearTimeout(timer);
          res.pause();
          upload.onDrain(() => { if (!settled) { arm(); res.resume(); } });
        } else {
          arm();
        }
      } catch (err) {
        settle(err as Error);
      }
    });
    res.once('end', () => settle(state.received < size ? new RetryableFetchError(`the connection to ${where} ended after ${state.received} of ${size} bytes`) : undefined));
    res.once('error', (err) => settle(new RetryableFetchError(`the connection to ${where} failed after ${state.received} of ${size} bytes: ${err.message}`)));
    res.once('close', () => settle(state.received < size ? new RetryableFetchError(`the connection to ${where} closed after ${state.received} of ${size} bytes`) : undefined));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}
