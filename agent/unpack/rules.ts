// The safety rules for a release tarball, as a pure checker of tar headers:
// fed one header at a time (pass 1, before anything is written), it builds
// the tree the archive describes and collects problems. The same tree is what
// the lstat walk of pass 3 compares the extracted result against.
import { printable } from '../../common/names.js';

export interface UnpackLimits { maxBytes: number; maxEntries: number; maxPathLength: number; maxDepth: number }

export const DEFAULT_LIMITS: UnpackLimits = { maxBytes: 2 * 1024 ** 3, maxEntries: 200_000, maxPathLength: 1024, maxDepth: 64 };

/** What the archive says a path should be once extracted. */
export type Node =
  | { type: 'dir'; implicit: boolean }
  | { type: 'file'; size: number }
  | { type: 'symlink'; target: string };

/** The header fields the rules look at (node-tar's ReadEntry has them all). */
export interface HeaderInfo { path: string; type: string; size: number; linkpath?: string; mode?: number }

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
  readonly problems: string[] = [];
  entries = 0;
  bytes = 0;
  /** Set when a limit is exceeded: the scan should stop reading. */
  limitHit = false;
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

  /** Checks one archive entry and records it in the tree. */
  add(h: HeaderInfo): void {
    const { limits } = this;
    this.entries++;
    this.bytes += h.size > 0 ? h.size : 0;
    if (this.entries > limits.maxEntries) {
      this.limitHit = true;
      return this.refuse(`more than ${limits.maxEntries} entries`);
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
    const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
    if (parts.includes('..')) return this.refuse(`entry ${q(raw)} has ".." in its path`);
    if (parts.length > limits.maxDepth) return this.refuse(`entry ${q(raw)} is ${parts.length} levels deep, over the limit of ${limits.maxDepth}`);
    if (parts.length === 0) {
      // "." or "./": the release root itself, which already exists.
      if (kind !== 'dir') this.refuse(`entry ${q(raw)} would replace the release root with a ${kind}`);
      return;
    }
    // Every parent must be a directory: not a symlink (no writing through
    // links), not a file. Missing parents are created by tar as directories.
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]}`;
      const parent = this.tree.get(prefix);
      if (!parent) this.tree.set(prefix, { type: 'dir', implicit: true });
      else if (parent.type === 'symlink') return this.refuse(`entry ${q(raw)} is written through the symlink ${q(prefix)}`);
      else if (parent.type === 'file') return this.refuse(`entry ${q(raw)} is inside ${q(prefix)}, which is a file`);
    }
    const path = parts.join('/');
    let node: Node;
    if (kind === 'file') node = { type: 'file', size: h.size };
    else if (kind === 'dir') node = { type: 'dir', implicit: false };
    else {
      const target = h.linkpath ?? '';
      if (target === '') return this.refuse(`symlink ${q(raw)} has an empty target`);
      if (target.startsWith('/')) return this.refuse(`symlink ${q(raw)} points to the absolute path ${q(target)}`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f\ufffd]/.test(target)) return this.refuse(`symlink ${q(raw)} has control characters or invalid UTF-8 in its target`);
      if (Buffer.byteLength(target) > limits.maxPathLength) return this.refuse(`symlink ${q(raw)} has a target over ${limits.maxPathLength} bytes`);
      node = { type: 'symlink', target };
    }
    const old = this.tree.get(path);
    if (old && !(old.type === node.type && node.type !== 'symlink')) {
      return this.refuse(`entry ${q(raw)} appears twice (a ${old.type}, then a ${node.type})`);
    }
    this.tree.set(path, node);
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
