// What happened on this host: every activation, rollback, start, stop, task,
// lock and settings change, appended as one JSON line to
// <state_dir>/history.jsonl, rotated by size (history.jsonl.1 …). Append-only:
// nothing rewrites an entry.
import { appendFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from './logger.js';

export interface HistoryEntry {
  at: string;
  app: string;
  action: string;
  who: string;
  from_version: string;
  to_version: string;
  result: 'done' | 'failed';
  duration_s: number;
  message: string;
}

export class History {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly stateDir: string, private readonly log: Logger, private readonly maxBytes = 5 * 1024 * 1024, private readonly files = 3) {}

  get file(): string {
    return join(this.stateDir, 'history.jsonl');
  }

  /** Appends one entry; writes are serialised, and a failure is logged, never thrown. */
  append(e: Partial<HistoryEntry> & Pick<HistoryEntry, 'app' | 'action'>): Promise<void> {
    const entry: HistoryEntry = {
      at: new Date().toISOString(), who: '', from_version: '', to_version: '', result: 'done', duration_s: 0, message: '', ...e,
    };
    this.writing = this.writing.then(async () => {
      await this.rotateIfNeeded();
      await appendFile(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 }); // not for app_user (agent/storage/permissions.ts)
    }).catch((err: unknown) => this.log.error({ err }, 'could not append to the history'));
    return this.writing;
  }

  /** The newest `limit` entries (of `app`, or all), oldest first. */
  async read(app: string, limit: number): Promise<HistoryEntry[]> {
    await this.writing;
    const out: HistoryEntry[] = [];
    for (const f of [this.file, ...Array.from({ length: this.files }, (_, i) => `${this.file}.${i + 1}`)]) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch {
        continue;
      }
      const lines = text.split('\n').filter(Boolean).reverse();
      for (const line of lines) {
        try {
          const e = JSON.parse(line) as HistoryEntry;
          if (!app || e.app === app) out.push(e);
        } catch { /* a torn last line after a crash */ }
        if (out.length >= limit) return out.reverse();
      }
    }
    return out.reverse();
  }

  private async rotateIfNeeded(): Promise<void> {
    let size = 0;
    try {
      size = (await stat(this.file)).size;
    } catch {
      return;
    }
    if (size < this.maxBytes) return;
    await rm(`${this.file}.${this.files}`, { force: true });
    for (let i = this.files - 1; i >= 1; i--) await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => undefined);
    await rename(this.file, `${this.file}.1`);
  }
}
