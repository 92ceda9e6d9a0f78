// Longer than ~300 lines on purpose: one header format and its extensions (ustar prefix, GNU L/K, PAX x/g), read in one place so that what GNU tar would read is decided once.
// Pass 1's tar reader: the headers of a plain tar stream, read as GNU tar
// reads them, without copying or parsing a byte of any entry's body. It is
// synchronous and keeps no more than one header (or one metadata record,
// at most META_MAX) between calls: `write` takes decompressed chunks of any
// size and calls back for each header in them; bodies are skipped by
// arithmetic.
//
// Why not node-tar's Parser: it makes a stream per entry and an object per
// header field; on a release of 86,000 files that was ~30 µs per entry,
// most of pass 1 and longer than GNU tar's whole extraction
// (docs/benchmarks.md, "Unpack").
//
// Where tar readers read the same bytes differently, this one refuses
// (strict), so that what the rules check is what GNU tar writes: a lone
// zero block followed by more headers (GNU tar stops there, others go on),
// a GNU long name and a PAX path on the same entry, a ustar header whose
// version is not "00" but whose prefix is set, a malformed PAX record.
// What remains is caught by pass 3, which compares the extracted tree with
// what this reader reported.
import { printable } from '../../../common/names.js';

/**
 * An entry's header as the rules see it. `size` is NaN when the header's
 * size field was negative or malformed (node-tar reads those as 0; GNU tar
 * refuses them). `type` is node-tar's name for the typeflag ('File',
 * 'SymbolicLink', …) or, for one without a name, the flag in quotes.
 */
export interface HeaderInfo { path: string; type: string; size: number; linkpath?: string }

/** A PAX size record GNU tar and node-tar read alike: plain digits, below 2^53. */
export const PAX_SIZE = /^\d{1,15}$/;

/** A metadata record (PAX x/g, GNU L/K) larger than this is refused (node-tar's limit, 1 MiB). */
export const META_MAX = 1024 * 1024;
const BLOCK = 512;

/** What the reader reports, in the order it reads. */
export interface TarSink {
  /**
   * An entry, with what its PAX and GNU records said applied. size is NaN
   * when its size field is negative or malformed; a type this reader does not
   * name is given as the typeflag in quotes ('"Z"').
   */
  entry(h: HeaderInfo): void;
  /** The body of a metadata record, as text (PAX records, or a GNU long name). */
  meta(text: string): void;
  /** A global PAX header's records that apply to every later entry. */
  global(fields: { path?: string; linkpath?: string; size?: string }): void;
  /** A problem refused by name (not the archive's bytes being broken). */
  refuse(message: string): void;
}

const TYPES: Record<string, string> = {
  '0': 'File', '\0': 'OldFile', '7': 'ContiguousFile', '5': 'Directory', '2': 'SymbolicLink',
  '1': 'Link', '3': 'CharacterDevice', '4': 'BlockDevice', '6': 'FIFO',
};

/** The C string in buf[start, start+len): up to its first NUL. */
function cString(buf: Buffer, start: number, len: number): string {
  let end = start;
  const lim = start + len;
  while (end < lim && buf[end] !== 0) end++;
  return buf.toString('utf8', start, end);
}

/**
 * A numeric header field as GNU tar reads it: octal digits after optional
 * leading spaces, ended by a space or NUL, or base-256 (first byte 0x80;
 * 0xff is negative). NaN when malformed or negative; Infinity past 2^53.
 */
export function numericField(buf: Buffer, start: number, len: number): number {
  const first = buf[start]!;
  if (first === 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + buf[i]!;
      if (v > Number.MAX_SAFE_INTEGER) return Infinity;
    }
    return v;
  }
  if (first & 0x80) return Number.NaN; // 0xff: negative (two's complement); other high bytes are not numbers
  let i = start;
  const lim = start + len;
  while (i < lim && buf[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < lim; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  if (digits === 0) return Number.NaN;
  for (; i < lim; i++) if (buf[i] !== 0x20 && buf[i] !== 0) return Number.NaN;
  return v;
}

/** The sum of a block's bytes (0: a zero block, as no header can sum to 0: its checksum field holds digits). */
function blockSum(h: Buffer, at: number): number {
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += h[i]!;
  return sum;
}

/** Whether the header's checksum field matches its bytes (unsigned sum, or the signed sum of old tars), given blockSum. */
function checksumOk(h: Buffer, at: number, sum: number): boolean {
  const stored = numericField(h, at + 148, 8);
  if (!Number.isFinite(stored)) return false;
  // The checksum is computed with its own field read as eight spaces.
  let unsigned = sum + 8 * 0x20;
  for (let i = at + 148; i < at + 156; i++) unsigned -= h[i]!;
  if (stored === unsigned) return true;
  let signed = unsigned;
  for (let i = at; i < at + BLOCK; i++) if (h[i]! > 127 && (i < at + 148 || i >= at + 156)) signed -= 256;
  return stored === signed;
}

/** The records of a PAX body; undefined when it is not made of well-formed "LEN key=value\n" records. */
export function paxRecords(body: Buffer): { key: string; value: string }[] | undefined {
  const out: { key: string; value: string }[] = [];
  let pos = 0;
  while (pos < body.length) {
    let len = 0;
    let i = pos;
    while (i < body.length && body[i]! >= 0x30 && body[i]! <= 0x39 && i - pos < 16) len = len * 10 + (body[i++]! - 0x30);
    if (i === pos || body[i] !== 0x20 || len <= i - pos + 1 || pos + len > body.length || body[pos + len - 1] !== 0x0a) return undefined;
    const rec = body.toString('utf8', i + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) return undefined;
    out.push({ key: rec.slice(0, eq), value: rec.slice(eq + 1) });
    pos += len;
  }
  return out;
}

type State =
  | { kind: 'header' }
  | { kind: 'skip'; left: number }
  /** A metadata record's body: `keep` of its `padded` bytes are kept. */
  | { kind: 'meta'; type: string; keep: number; parts: Buffer[]; got: number; padded: number }
  | { kind: 'eof' };

export class TarReader {
  /** The reason the stream is broken, once it is (then nothing more is read). */
  corrupt: string | undefined;
  /** Two zero blocks were read: the archive has ended (what follows is not read). */
  ended = false;
  /** Tar bytes read so far. */
  offset = 0;
  private state: State = { kind: 'header' };
  /** A header split between two chunks. */
  private partial = Buffer.alloc(BLOCK);
  private partialLen = 0;
  private sawZero = false;
  private sawEntry = false;
  /** What the records since the last entry apply to the next one. */
  private pending: { path?: string; linkpath?: string; size?: number; longName?: boolean; paxPath?: boolean } = {};

  constructor(private readonly sink: TarSink) {}

  /** Reads nothing more (the caller has seen enough: a limit was hit). */
  halt(): void {
    this.state = { kind: 'eof' };
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.corrupt === undefined && !this.ended) {
      const s = this.state;
      if (s.kind === 'skip') {
        const n = Math.min(s.left, chunk.length - at);
        s.left -= n;
        at += n;
        this.offset += n;
        if (s.left === 0) this.state = { kind: 'header' };
      } else if (s.kind === 'meta') {
        const n = Math.min(s.padded - s.got, chunk.length - at);
        const kept = Math.min(n, Math.max(0, s.keep - s.got));
        if (kept > 0) s.parts.push(Buffer.from(chunk.subarray(at, at + kept)));
        s.got += n;
        at += n;
        this.offset += n;
        if (s.got === s.padded) {
          this.state = { kind: 'header' };
          this.metaRecord(s.type, Buffer.concat(s.parts, s.keep));
        }
      } else if (s.kind === 'header') {
        if (this.partialLen === 0 && chunk.length - at >= BLOCK) {
          this.header(chunk, at);
          at += BLOCK;
        } else {
          const n = Math.min(BLOCK - this.partialLen, chunk.length - at);
          chunk.copy(this.partial, this.partialLen, at, at + n);
          this.partialLen += n;
          at += n;
          if (this.partialLen === BLOCK) {
            this.partialLen = 0;
            this.header(this.partial, 0);
          }
        }
      } else return;
    }
  }

  /** The end of the stream: anything but a whole number of entries is a truncated archive. */
  end(): void {
    if (this.corrupt !== undefined) return;
    if (!this.ended && (this.state.kind !== 'header' || this.partialLen > 0)) this.corrupt = `the archive is truncated (it ends inside an entry, at byte ${this.offset + this.partialLen} of the tar stream)`;
    else if (!this.sawEntry) this.corrupt = 'the archive holds no entries';
  }

  /** One 512-byte header at h[at]: offset already counts the bytes before it. */
  private header(h: Buffer, at: number): void {
    const where = this.offset;
    this.offset += BLOCK;
    const sum = blockSum(h, at);
    if (sum === 0) {
      if (this.sawZero) {
        this.ended = true;
        this.state = { kind: 'eof' };
      }
      this.sawZero = true;
      return;
    }
    if (this.sawZero) {
      this.corrupt = `a lone zero block at byte ${where - BLOCK} is followed by more headers (GNU tar would stop reading there)`;
      return;
    }
    if (!checksumOk(h, at, sum)) {
      this.corrupt = `the header at byte ${where} has a wrong checksum`;
      return;
    }
    const typeflag = String.fromCharCode(h[at + 156]!);
    const rawSize = numericField(h, at + 124, 12);
    if (rawSize === Infinity) {
      this.corrupt = `the header at byte ${where} has a size field beyond 2^53 bytes`;
      return;
    }
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (!Number.isSafeInteger(rawSize)) {
        this.corrupt = `the metadata header at byte ${where} has a malformed size field`;
        return;
      }
      if (rawSize > META_MAX) {
        this.sink.refuse(`a metadata record (type ${typeflag}) of ${rawSize} bytes, over the limit of ${META_MAX}`);
        this.state = { kind: 'skip', left: pad(rawSize) };
        return;
      }
      // A GNU long name is read as GNU tar reads it: up to its first NUL in the whole blocks of its
      // body, whatever the size field says (a size cut short would give another reader a shorter name).
      const keep = typeflag === 'L' || typeflag === 'K' ? pad(rawSize) : rawSize;
      this.state = rawSize === 0 ? { kind: 'header' } : { kind: 'meta', type: typeflag, keep, parts: [], got: 0, padded: pad(rawSize) };
      if (rawSize === 0) this.metaRecord(typeflag, Buffer.alloc(0));
      return;
    }

    // An entry: the name from the header (with a ustar prefix), unless a PAX or GNU record said otherwise.
    let name = cString(h, at, 100);
    if (isPosixUstar(h, at)) {
      const prefix = cString(h, at + 345, 155);
      if (prefix !== '') {
        if (h.toString('latin1', at + 263, at + 265) !== '00') {
          this.sink.refuse(`entry "${name}" has a ustar prefix but the version "${h.toString('latin1', at + 263, at + 265)}" (tar readers disagree on whether to use it)`);
        }
        name = `${prefix}/${name}`;
      }
    }
    const p = this.pending;
    this.pending = {};
    if (p.longName && p.paxPath) this.sink.refuse(`entry "${p.path}" is named both by a GNU long-name record and a PAX path (tar readers disagree on which wins)`);
    const path = p.path ?? name;
    if (path === '') {
      this.corrupt = `the header at byte ${where} has no name`;
      return;
    }
    let size = p.size ?? rawSize;
    let type = TYPES[typeflag] ?? `"${printable(typeflag, 4)}"`;
    // As GNU tar and node-tar both do: a regular file whose name ends in "/" is a directory (old tars wrote them so).
    if ((typeflag === '0' || typeflag === '\0' || typeflag === '7') && path.endsWith('/')) type = 'Directory';
    // A directory's malformed size field is read as 0 (nothing of it is written); anything else's is refused by the rules.
    if (type === 'Directory' && Number.isNaN(size)) size = 0;
    this.sawEntry = true;
    const linkpath = type === 'SymbolicLink' || type === 'Link' ? p.linkpath ?? cString(h, at + 157, 100) : undefined;
    this.sink.entry({ path, type, size, linkpath });
    if (!Number.isSafeInteger(size) || size < 0) {
      // Where the next header is cannot be known: nothing after this is read (the rules refused the size).
      this.state = { kind: 'eof' };
      return;
    }
    if (size > 0) this.state = { kind: 'skip', left: pad(size) };
  }

  private metaRecord(type: string, body: Buffer): void {
    this.sink.meta(body.toString('utf8'));
    if (type === 'L' || type === 'K') {
      // The name is what comes before the first NUL (the rules refuse anything but NULs after it).
      const nul = body.indexOf(0);
      const text = body.toString('utf8', 0, nul === -1 ? body.length : nul);
      if (type === 'L') { this.pending.path = text; this.pending.longName = true; } else this.pending.linkpath = text;
      return;
    }
    const records = paxRecords(body);
    if (records === undefined) {
      this.corrupt = `a PAX header (type ${type}) before byte ${this.offset} is malformed`;
      return;
    }
    const fields: { path?: string; linkpath?: string; size?: string } = {};
    for (const r of records) if (r.key === 'path' || r.key === 'linkpath' || r.key === 'size') fields[r.key] = r.value;
    if (type === 'g') return this.sink.global(fields);
    if (fields.path !== undefined) { this.pending.path = fields.path; this.pending.paxPath = true; }
    if (fields.linkpath !== undefined) this.pending.linkpath = fields.linkpath;
    // The rules refuse a size that is not plain digits; it then counts as malformed.
    if (fields.size !== undefined) this.pending.size = PAX_SIZE.test(fields.size) ? Number(fields.size) : Number.NaN;
  }
}

const pad = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

const USTAR = Buffer.from('ustar\0', 'latin1');
/** The POSIX magic "ustar\0" (GNU's old format writes "ustar  \0" and has no prefix field). */
const isPosixUstar = (h: Buffer, at: number) => h.compare(USTAR, 0, 6, at + 257, at + 263) === 0;
