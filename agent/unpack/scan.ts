// Pass 1: read the gzip'd tarball through node-tar's parser (headers only:
// entry bodies are skipped) and check every entry against ArchiveRules.
// Nothing is written. Runs inside the unpack worker.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Parser, type ReadEntry } from 'tar';
import { ArchiveRules, type UnpackLimits } from './rules.js';

export type ScanOutcome =
  | { ok: true; rules: ArchiveRules }
  | { ok: false; kind: 'refused'; problems: string[] }
  | { ok: false; kind: 'corrupt'; message: string };

/** node-tar warning codes that mean broken bytes rather than hostile content. */
const CORRUPT_CODES = new Set(['TAR_BAD_ARCHIVE', 'TAR_ENTRY_INVALID', 'TAR_ABORT']);

export async function scanTarball(tarball: string, limits: Partial<UnpackLimits>, onProgress: (entries: number) => void): Promise<ScanOutcome> {
  const magic = Buffer.alloc(2);
  const fh = await open(tarball, 'r');
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
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
  const input = createReadStream(tarball, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (stop || corrupt !== undefined) break;
      if (!parser.write(chunk)) await Promise.race([new Promise<void>((r) => parser.once('drain', () => r())), done]);
    }
  } finally {
    input.destroy();
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
