// Pass 1: read the gzip'd tarball through node-tar's parser (headers only:
// entry bodies are skipped) and check every entry against ArchiveRules.
// Nothing is written. Runs inside the unpack worker.
import { read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { Parser, type ReadEntry } from 'tar';
import { ArchiveRules, type UnpackLimits } from './rules.js';

export type ScanOutcome =
  | { ok: true; rules: ArchiveRules }
  | { ok: false; kind: 'refused'; problems: string[] }
  | { ok: false; kind: 'corrupt'; message: string };

/** node-tar warning codes that mean broken bytes rather than hostile content. */
const CORRUPT_CODES = new Set(['TAR_BAD_ARCHIVE', 'TAR_ENTRY_INVALID', 'TAR_ABORT']);

/** `fd` is the tarball, opened once by the caller: GNU tar reads the same file, whatever happens to its path. */
export async function scanTarball(fd: number, limits: Partial<UnpackLimits>, onProgress: (entries: number) => void): Promise<ScanOutcome> {
  const magic = Buffer.alloc(2);
  readSync(fd, magic, 0, 2, 0); // positional: the fd's offset stays at 0 for GNU tar
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return { ok: false, kind: 'corrupt', message: 'not gzip data' };

  const rules = new ArchiveRules(limits);
  let corrupt: string | undefined;
  let stop = false;
  const parser = new Parser({
    gzip: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!stop) {
        rules.add(entry);
        if (rules.entries % 1000 === 0) onProgress(rules.entries);
        if (rules.full) stop = true;
      }
      entry.resume();
    },
    onwarn: (code: string, message: string) => {
      if (/decompression ratio/.test(message)) rules.refuse(`it decompresses too much (${message})`);
      else if (CORRUPT_CODES.has(code)) corrupt ??= message;
      else rules.refuse(`${code}: ${message}`);
    },
  });
  // Entries of types node-tar does not know (GNU tar would extract them as
  // files) and oversized metadata: both skipped by the parser, refused here.
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    rules.entries++;
    rules.refuse(`entry "${entry.path}" has the unsupported type ${entry.type ?? `"${String(entry.header.type)}"`}`);
  });
  const done = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('close', () => resolve());
    parser.on('error', (err: Error) => {
      if (/decompression ratio/.test(err.message)) rules.refuse(`it decompresses too much (${err.message})`);
      else corrupt ??= err.message;
      resolve();
    });
  });
  // Positional reads of the caller's fd (never closed or moved here).
  const readAt = promisify(read);
  for (let pos = 0; !stop && corrupt === undefined;) {
    const buf = Buffer.allocUnsafe(1 << 20);
    const { bytesRead } = await readAt(fd, buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    if (!parser.write(buf.subarray(0, bytesRead))) await Promise.race([new Promise<void>((r) => parser.once('drain', () => r())), done]);
  }
  if (!stop && corrupt === undefined) {
    parser.end();
    await done;
  }
  if (rules.problems.length > 0) return { ok: false, kind: 'refused', problems: rules.problems };
  if (corrupt !== undefined) return { ok: false, kind: 'corrupt', message: corrupt };
  rules.checkSymlinks();
  if (rules.problems.length > 0) return { ok: false, kind: 'refused', problems: rules.problems };
  onProgress(rules.entries);
  return { ok: true, rules };
}
