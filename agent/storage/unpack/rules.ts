// The safety rules for a release tarball, as a pure checker of tar headers:
// fed one header at a time (pass 1, before anything is written), it builds
// the tree the archive describes and collects problems. The same tree is what
// the lstat walk of pass 3 compares the extracted result against.
import { printable } from '../../../common/names.js';
import { MARKER_FILE } from '../../paths.js';
import { paxRecords, PAX_SIZE, type HeaderInfo } from './tar-reader.js';

export interface UnpackLimits { maxBytes: number; maxEntries: number; maxPathLength: number; maxDepth: number }

export const DEFAULT_LIMITS: UnpackLimits = { maxBytes: 2 * 1024 ** 3, maxEntries: 200_000, maxPathLength: 1024, maxDepth: 64 };

/** What the archive says a path should be once extracted. */
export type Node =
  | { type: 'dir'; implicit: boolean }
  | FileNode
  | { type: 'symlink'; target: string };

export interface FileNode {
  type: 'file';
  size: number;
  /** File bytes in the archive up to the end of this one's: GNU tar has finished it once it has written more (early-verify.ts). */
  end?: number;
  /** Set by early-verify.ts when the file was found as described while GNU tar still ran: the final walk only sees it is listed. */
  verified?: boolean;
}

/** Bytes the decompressed tar stream may hold beyond what its headers account for (zero blocks, record padding). */
export const TAR_SLACK_BYTES = 1024 * 1024;
/** Metadata records (PAX x/g, GNU L/K) allowed per entry: a real entry has at most three. */
const METAS_PER_ENTRY = 4;
/** PAX keywords on which node-tar and GNU tar disagree: refused so both parsers read the same archive. */
const REFUSED_PAX = /^(GNU\.sparse\.|hdrcharset$)/;

/** A path's identity on a case-insensitive, normalising file system (APFS, NTFS): NFC, then full case folding. */
export function foldName(p: string): string {
  // ASCII alone (nearly every path in a release): NFC changes nothing and the round trip is toLowerCase.
  if (ASCII.test(p)) return p.toLowerCase();
  // toUpperCase().toLowerCase() folds what toLowerCase alone does not (ß → ss, ς → σ, ﬁ → fi).
  return p.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;
const FOLDED_MARKER = foldName(MARKER_FILE);

/** A Windows drive prefix ("C:", "c:\\"): a path separator and a root elsewhere. */
const DRIVE = /^[A-Za-z]:/;

/** Pads a length to whole 512-byte tar blocks. */
const blocks = (n: number) => Math.ceil(n / 512) * 512;

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const REFUSED_TYPES: Record<string, string> = {
  Link: 'is a hard link',
  CharacterDevice: 'is a character device',
  BlockDevice: 'is a block device',
  FIFO: 'is a fifo',
};
/** Symlink hops allowed when resolving one link (Linux allows 40). */
const MAX_HOPS = 40;
/** Problems kept for the message; scanning stops after this many. */
export const MAX_PROBLEMS = 20;

const q = (p: string) => `"${printable(p, 120)}"`;

export class ArchiveRules {
  readonly tree = new Map<string, Node>();
  /** The regular files, in archive order (GNU tar's order of writing them). */
  readonly files: Array<readonly [path: string, node: FileNode]> = [];
  readonly problems: string[] = [];
  entries = 0;
  bytes = 0;
  /** Set when a limit is exceeded: the scan should stop reading. */
  limitHit = false;
  /** Metadata records seen (PAX x/g, GNU L/K). */
  metas = 0;
  /**
   * Bytes of tar stream the headers seen so far account for: 512 per header,
   * bodies padded to blocks. The decompressed stream may not outgrow this by
   * more than TAR_SLACK_BYTES (a gzip bomb hides its bytes after the end
   * marker, or in records nothing counts).
   */
  accounted = 0;
  /**
   * The parent directory of the last entry whose parents were all found to be
   * directories: entries come in order, so the next one usually has the same
   * parent, and a directory in the tree never becomes anything else.
   */
  private lastDir: string | undefined;
  /** foldName(path) → path, for every path in the tree. */
  private readonly folded = new Map<string, string>();
  private readonly limits: UnpackLimits;

  constructor(limits: Partial<UnpackLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get full(): boolean {
    return this.limitHit || this.problems.length >= MAX_PROBLEMS;
  }

  refuse(msg: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(msg);
  }

  /** The most decompressed tar bytes the archive may hold, given the headers seen so far. */
  get maxTarBytes(): number {
    return this.accounted + TAR_SLACK_BYTES;
  }

  /**
   * One metadata record (the body of a PAX x/g or GNU L/K header), as the
   * parser read it. PAX records are checked for keywords the two tar parsers
   * read differently; what a record does to the next entry's path or target
   * is checked on that entry (the reader has applied it by then).
   */
  addMeta(text: string): void {
    this.metas++;
    this.accounted += 512 + blocks(Buffer.byteLength(text));
    if (this.metas > METAS_PER_ENTRY * (this.entries + 1)) {
      this.limitHit = true;
      return this.refuse(`more than ${METAS_PER_ENTRY} metadata records (PAX or GNU long-name headers) for one entry`);
    }
    const records = parsePax(text);
    // A NUL inside a name: node-tar and GNU tar cut the name there ("ok\0../../x" becomes "ok"),
    // other readers (Python's tarfile) do not, so the archive means different things to each.
    if (records.length === 0 && text.replace(/\0+$/, '').includes('\0')) {
      return this.refuse(`a GNU long-name record holds a NUL byte inside the name ${q(text.replace(/\0/g, '\\0'))} (tar readers disagree on where it ends)`);
    }
    for (const rec of records) {
      if (rec.key.includes('\0') || rec.value.includes('\0')) {
        this.refuse(`a PAX record ${q(rec.key.replace(/\0/g, '\\0'))} holds a NUL byte in ${q(rec.value.replace(/\0/g, '\\0'))} (tar readers disagree on where it ends)`);
      } else if (REFUSED_PAX.test(rec.key)) this.refuse(`a PAX header has the keyword ${q(rec.key)} (sparse files and header charsets are not supported)`);
      else if (rec.key === 'size' && !PAX_SIZE.test(rec.value)) this.refuse(`a PAX header has the size ${q(rec.value)}, which is not a plain byte count`);
    }
  }

  /** Fields a global PAX header (type g) sets for every later entry: only harmless ones may be there. */
  checkGlobal(g: { path?: unknown; linkpath?: unknown; size?: unknown } | undefined): void {
    if (!g) return;
    for (const key of ['path', 'linkpath', 'size'] as const) {
      if (g[key] !== undefined) this.refuse(`a global PAX header sets ${key} for every entry (tar implementations disagree on it)`);
    }
  }

  /** Checks one archive entry and records it in the tree. */
  add(h: HeaderInfo): void {
    const { limits } = this;
    this.entries++;
    const size = h.size;
    if (!Number.isSafeInteger(size) || size < 0) {
      // node-tar reads a negative (base-256) or malformed size field as 0; GNU tar refuses it: a disagreement, so refused.
      this.limitHit = true;
      return this.refuse(`entry ${q(h.path)} has a negative, malformed or absurd size field`);
    }
    this.accounted += 512 + blocks(size);
    this.bytes += size;
    if (this.entries > limits.maxEntries) {
      this.limitHit = true;
      return this.refuse(`more than ${limits.maxEntries} entries`);
    }
    if (size > limits.maxBytes) {
      this.limitHit = true;
      return this.refuse(`entry ${q(h.path)} is ${size} bytes, over the limit of ${limits.maxBytes}`);
    }
    if (this.bytes > limits.maxBytes) {
      this.limitHit = true;
      return this.refuse(`more than ${limits.maxBytes} bytes in total (at entry ${q(h.path)})`);
    }
    const raw = h.path;
    const kind = FILE_TYPES.has(h.type) ? 'file' : h.type === 'Directory' ? 'dir' : h.type === 'SymbolicLink' ? 'symlink' : undefined;
    if (!kind) return this.refuse(`entry ${q(raw)} ${REFUSED_TYPES[h.type] ?? `has the unsupported type ${h.type}`}`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\ufffd]/.test(raw)) return this.refuse(`entry ${q(raw)} has control characters or invalid UTF-8 in its path`);
    const len = Buffer.byteLength(raw);
    if (len > limits.maxPathLength) return this.refuse(`entry ${q(raw)} has a path of ${len} bytes, over the limit of ${limits.maxPathLength}`);
    if (raw.startsWith('/')) return this.refuse(`entry ${q(raw)} has an absolute path`);
    if (raw.includes('\\')) return this.refuse(`entry ${q(raw)} has a backslash in its path (a path separator on Windows)`);
    if (DRIVE.test(raw)) return this.refuse(`entry ${q(raw)} starts with a drive letter`);
    if (kind !== 'file' && size > 0) return this.refuse(`entry ${q(raw)} is a ${kind} with a body of ${size} bytes`);
    const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
    if (parts.includes('..')) return this.refuse(`entry ${q(raw)} has ".." in its path`);
    // The agent writes its completion marker there once the release is complete; a release may not hold one.
    if (parts[0] === MARKER_FILE || foldName(parts[0] ?? '') === FOLDED_MARKER) return this.refuse(`entry ${q(raw)} uses the name ${q(MARKER_FILE)}, which the agent keeps for itself`);
    if (parts.length > limits.maxDepth) return this.refuse(`entry ${q(raw)} is ${parts.length} levels deep, over the limit of ${limits.maxDepth}`);
    if (parts.length === 0) {
      // "." or "./": the release root itself, which already exists.
      if (kind !== 'dir') this.refuse(`entry ${q(raw)} would replace the release root with a ${kind}`);
      return;
    }
    const path = parts.join('/');
    // Every parent must be a directory: not a symlink (no writing through
    // links), not a file. Missing parents are created by tar as directories.
    const parentDir = parts.length > 1 ? path.slice(0, path.length - parts[parts.length - 1]!.length - 1) : '';
    if (parentDir !== '' && parentDir !== this.lastDir) {
      let prefix = '';
      for (let i = 0; i < parts.length - 1; i++) {
        prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]}`;
        const parent = this.tree.get(prefix);
        if (!parent) {
          const clash = this.collides(prefix);
          if (clash) return this.refuse(`entry ${q(raw)}: ${clash}`);
          this.tree.set(prefix, { type: 'dir', implicit: true });
        } else if (parent.type === 'symlink') return this.refuse(`entry ${q(raw)} is written through the symlink ${q(prefix)}`);
        else if (parent.type === 'file') return this.refuse(`entry ${q(raw)} is inside ${q(prefix)}, which is a file`);
      }
      this.lastDir = parentDir;
    }
    let node: Node;
    if (kind === 'file') node = { type: 'file', size: h.size, end: this.bytes };
    else if (kind === 'dir') node = { type: 'dir', implicit: false };
    else {
      const target = h.linkpath ?? '';
      if (target === '') return this.refuse(`symlink ${q(raw)} has an empty target`);
      if (target.startsWith('/')) return this.refuse(`symlink ${q(raw)} points to the absolute path ${q(target)}`);
      if (target.includes('\\')) return this.refuse(`symlink ${q(raw)} has a backslash in its target ${q(target)}`);
      if (DRIVE.test(target)) return this.refuse(`symlink ${q(raw)} points to ${q(target)}, which starts with a drive letter`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f\ufffd]/.test(target)) return this.refuse(`symlink ${q(raw)} has control characters or invalid UTF-8 in its target`);
      if (Buffer.byteLength(target) > limits.maxPathLength) return this.refuse(`symlink ${q(raw)} has a target over ${limits.maxPathLength} bytes`);
      node = { type: 'symlink', target };
    }
    const old = this.tree.get(path);
    // A directory may be listed again (its mode is all that changes); anything else twice is refused.
    if (old && !(old.type === 'dir' && node.type === 'dir')) {
      return this.refuse(`entry ${q(raw)} appears twice (a ${old.type}, then a ${node.type})`);
    }
    if (!old) {
      const clash = this.collides(path);
      if (clash) return this.refuse(`entry ${q(raw)}: ${clash}`);
    }
    this.tree.set(path, node);
    if (node.type === 'file') this.files.push([path, node]);
    // Its entries usually follow (its parents were checked above).
    if (node.type === 'dir') this.lastDir = path;
  }

  /** Records a new path; says so when another path is the same name on a case-insensitive or normalising file system. */
  private collides(path: string): string | undefined {
    const key = foldName(path);
    const other = this.folded.get(key);
    if (other === undefined) {
      this.folded.set(key, path);
      return undefined;
    }
    return `${q(path)} and ${q(other)} are the same name after Unicode normalisation or case folding`;
  }

  /**
   * After the last entry: resolves every symlink through the tree the way the
   * kernel would (following links inside the release, component by
   * component), and refuses any that lands outside the release or loops.
   */
  checkSymlinks(): void {
    for (const [path, node] of this.tree) {
      if (this.problems.length >= MAX_PROBLEMS) return;
      if (node.type !== 'symlink') continue;
      const problem = this.resolve(path, node.target);
      if (problem) this.refuse(`symlink ${q(path)} -> ${q(node.target)} ${problem}`);
    }
  }

  /** Returns undefined when `target`, read from the link at `path`, stays inside. */
  private resolve(path: string, target: string): string | undefined {
    const stack = path.split('/').slice(0, -1); // the link's own directory
    const todo = target.split('/').reverse();
    let hops = 0;
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) return 'points outside the release';
        stack.pop();
        continue;
      }
      stack.push(c);
      const n = this.tree.get(stack.join('/'));
      if (n?.type === 'symlink') {
        if (++hops > MAX_HOPS) return 'loops through other symlinks';
        if (n.target.startsWith('/')) return 'points outside the release';
        stack.pop();
        todo.push(...n.target.split('/').reverse());
      }
    }
    return undefined;
  }
}

/** The records of a PAX extended header body ("LEN key=value\\n"…); nothing when it is not one (a GNU long name). */
export function parsePax(text: string): { key: string; value: string }[] {
  return paxRecords(Buffer.from(text)) ?? [];
}
