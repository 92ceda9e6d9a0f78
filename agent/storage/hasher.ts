// sha256 of uploads, computed in one worker thread so that hashing (about
// 1 ms per MiB) never holds the agent's event loop, which meanwhile receives
// the next chunks (bench/pipeline.ts measures the upload).
import type { Worker } from 'node:worker_threads';
import { startWorker, entryUrl } from '../worker-file.js';
import type { HashReply, HashRequest } from './hash-worker.js';

/** The worker ends after this long without a hash running: an idle thread keeps its own V8 heap (~9 MiB PSS) between deploys. A deploy of several apps in a row still shares one; a new one starts in ~30 ms. */
export const HASHER_IDLE_MS = 2_000;

export class Hasher {
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (digest: string) => void; reject: (err: Error) => void }>();
  /** Hashes begun and not yet digested or dropped. */
  private readonly running = new Set<number>();
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly idleMs = HASHER_IDLE_MS) {}

  /** Whether the worker thread exists (tests). */
  get alive(): boolean {
    return this.worker !== undefined;
  }

  private done(id: number): void {
    this.running.delete(id);
    if (this.running.size > 0 || !this.worker) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.running.size > 0 || !this.worker) return;
      const w = this.worker;
      this.worker = undefined; // the next hash starts a new one, never posts to this one
      void w.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private get w(): Worker {
    if (!this.worker) {
      const w = startWorker(entryUrl('hashWorker', new URL('./hash-worker.js', import.meta.url)));
      w.unref();
      w.on('message', (m: HashReply) => {
        this.waiting.get(m.id)?.resolve(m.digest);
        this.waiting.delete(m.id);
      });
      const gone = (why: string) => {
        if (this.worker !== w) return; // ended for being idle: nothing was waiting on it
        this.worker = undefined;
        for (const p of this.waiting.values()) p.reject(new Error(`the hash worker ${why}; upload again`));
        this.waiting.clear();
      };
      w.on('error', (err) => gone(`failed: ${err.message}`));
      w.on('exit', (code) => gone(`exited (${code})`));
      this.worker = w;
    }
    return this.worker;
  }

  /** One running hash; bytes go to the worker as they arrive. */
  begin(): HashJob {
    const id = this.nextId++;
    this.running.add(id);
    clearTimeout(this.idleTimer);
    return {
      update: (data: Buffer) => {
        // A copy of just these bytes, whose buffer is then moved (not copied again) to the worker.
        const own = new Uint8Array(data);
        this.w.postMessage({ op: 'update', id, data: own } satisfies HashRequest, [own.buffer]);
      },
      digest: () => new Promise<string>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        this.w.postMessage({ op: 'digest', id } satisfies HashRequest);
      }).finally(() => this.done(id)),
      drop: () => {
        this.worker?.postMessage({ op: 'drop', id } satisfies HashRequest);
        this.done(id);
      },
    };
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    await this.worker?.terminate();
  }
}

export interface HashJob {
  update(data: Buffer): void;
  digest(): Promise<string>;
  drop(): void;
}
