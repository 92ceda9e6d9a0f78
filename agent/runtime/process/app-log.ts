// An app's output: appended to logs/app.log, rotated by size (app.log.1 …
// app.log.N), with the last lines kept in memory for failure reports.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class AppLog {
  private stream?: WriteStream;
  private size = 0;
  /** A write failed (a full disk): output was lost, and the next stream says so first. */
  private lost = false;

  constructor(private readonly dir: string, private readonly maxBytes: number, private readonly files: number) {}

  get file(): string {
    return join(this.dir, 'app.log');
  }

  write(chunk: Buffer | string): void {
    if (!this.stream) this.open();
    if (this.size + chunk.length > this.maxBytes && this.size > 0) this.rotate();
    this.stream?.write(chunk);
    this.size += chunk.length;
  }

  /** A line of the agent's own about the app (start, exit), marked so it stands out. */
  note(text: string): void {
    this.write(`[slipway ${new Date().toISOString()}] ${text}\n`);
  }

  close(): void {
    this.stream?.end();
    this.stream = undefined;
  }

  private open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    try {
      this.size = statSync(this.file).size;
    } catch {
      this.size = 0;
    }
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o640 });
    // A full disk must not take the process down, nor end the log for good: the stream is
    // dropped, the next write opens a new one, and the first line it writes says output was lost.
    stream.on('error', () => {
      this.lost = true;
      if (this.stream === stream) this.stream = undefined;
    });
    this.stream = stream;
    if (this.lost) {
      this.lost = false;
      stream.write(`[slipway ${new Date().toISOString()}] some output was lost: it could not be written here (is the disk full?)\n`);
    }
  }

  private rotate(): void {
    this.stream?.end();
    this.stream = undefined;
    rmSync(`${this.file}.${this.files}`, { force: true });
    for (let i = this.files - 1; i >= 1; i--) {
      try { renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`); } catch { /* not there yet */ }
    }
    try { renameSync(this.file, `${this.file}.1`); } catch { /* not there */ }
    this.open();
  }
}

/** The last N lines of a stream of chunks. */
export class LineTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 200) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > 4096) {
      parts.push(this.partial);
      this.partial = '';
    }
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }

  last(n: number): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n);
  }
}
