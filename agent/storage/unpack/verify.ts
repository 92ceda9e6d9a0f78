// Pass 3: an lstat walk of the extracted release, independent of the tar
// parsers. Everything found must be exactly what pass 1 read from the
// headers (same paths, same types, same file sizes, same link targets), only
// files, directories and symlinks, no hard links, and every symlink must
// resolve inside the release. Modes become exactly 0755 (directories, and
// files with any x bit in the archive) or 0644: no setuid/setgid/sticky, no
// group/other write, nothing unreadable. Synchronous fs calls: this runs in
// the unpack worker threads, never on the agent's event loop.
//
// In steps, so that two threads can share the bulk of it:
//   (early)     while GNU tar still runs, the files it has finished
//               (early-verify.ts): those found as described are marked and
//               below only need to be listed.
//   checkDirs   every directory the archive describes, parents first: a real
//               directory (never a symlink, so no later path goes through
//               one), mode 0755. One thread, before the rest.
//   verifyDirs  for a share of those directories: every name in it is one the
//               archive put there, each file and symlink as described. Shares
//               are independent (splitShares); the unpack worker gives one to
//               a second thread (worker.ts).
//   finish      the count of everything found, and every symlink's realpath
//               inside the release.
import { lstatSync, readdirSync, readlinkSync, realpathSync, chmodSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { Node } from './rules.js';
import { MAX_PROBLEMS } from './rules.js';
import { printable } from '../../../common/names.js';

/** A directory ('' is the release root) and what the archive puts in it, by name. */
export type DirEntries = [dir: string, children: Map<string, Node>];
/** `early`: files only seen listed, found as described while GNU tar ran. */
export interface ShareResult { problems: string[]; found: number; symlinks: string[]; early: number }

const q = (p: string) => `"${printable(p, 120)}"`;
const join2 = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/** Every directory of the tree (and the root) with its children, parents before their children. */
export function childrenIndex(tree: Map<string, Node>): DirEntries[] {
  const byDir = new Map<string, Map<string, Node>>([['', new Map()]]);
  for (const [path, node] of tree) {
    if (node.type === 'dir' && !byDir.has(path)) byDir.set(path, new Map());
    const slash = path.lastIndexOf('/');
    const dir = slash === -1 ? '' : path.slice(0, slash);
    // A parent always comes before its children in the tree (the rules add implicit parents first).
    byDir.get(dir)!.set(slash === -1 ? path : path.slice(slash + 1), node);
  }
  return [...byDir];
}

/** Splits the directories into `n` shares of about equal numbers of entries (each a list of whole directories). */
export function splitShares(dirs: DirEntries[], n: number): DirEntries[][] {
  const shares: DirEntries[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  // Largest first, each to the lightest share so far.
  for (const d of [...dirs].sort((a, b) => b[1].size - a[1].size)) {
    let best = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[best]!) best = i;
    shares[best]!.push(d);
    load[best]! += d[1].size + 1;
  }
  return shares;
}

/** Each directory of the tree exists as a real directory (not a symlink) with mode 0755. Parents first: a problem stops it. */
export function checkDirs(dest: string, tree: Map<string, Node>): string[] {
  for (const [path, node] of tree) {
    if (node.type !== 'dir') continue;
    let st;
    try {
      st = lstatSync(`${dest}/${path}`);
    } catch {
      return [`${q(path)} is in the archive's headers but was not extracted`];
    }
    if (!st.isDirectory()) return [`${q(path)} was extracted as ${st.isSymbolicLink() ? 'a symlink' : st.isFile() ? 'a file' : 'something other than a directory'}, the archive says dir`];
    // Before anything reads it: a directory the archive made 0000 must be readable.
    if ((st.mode & 0o7777) !== 0o755) chmodSync(`${dest}/${path}`, 0o755);
  }
  return [];
}

/** The names in each of `dirs` against the archive's (after checkDirs: every directory there is a real one). */
export function verifyDirs(dest: string, dirs: DirEntries[]): ShareResult {
  const problems: string[] = [];
  const symlinks: string[] = [];
  let found = 0;
  let early = 0;
  for (const [dir, children] of dirs) {
    const abs = dir === '' ? dest : `${dest}/${dir}`;
    for (const name of readdirSync(abs)) {
      if (problems.length >= MAX_PROBLEMS) return { problems, found, symlinks, early };
      const path = join2(dir, name);
      const want = children.get(name);
      found++;
      if (!want) { problems.push(`${q(path)} was extracted but is not in the archive's headers`); continue; }
      if (want.type === 'dir') continue; // checkDirs has seen it
      if (want.type === 'file' && want.verified) { early++; continue; } // found as described while GNU tar ran (early-verify.ts)
      const full = `${abs}/${name}`;
      const st = lstatSync(full);
      if (st.isFile()) {
        if (want.type !== 'file') { problems.push(`${q(path)} was extracted as a file, the archive says ${want.type}`); continue; }
        if (st.size !== want.size) problems.push(`${q(path)} has ${st.size} bytes, the archive says ${want.size}`);
        if (st.nlink !== 1) problems.push(`${q(path)} has ${st.nlink} hard links`);
        // GNU tar with --no-same-permissions already drops setuid/setgid/sticky; this makes the mode exact.
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        if ((st.mode & 0o7777) !== mode) chmodSync(full, mode);
      } else if (st.isSymbolicLink()) {
        if (want.type !== 'symlink') { problems.push(`${q(path)} was extracted as a symlink, the archive says ${want.type}`); continue; }
        const target = readlinkSync(full);
        if (target !== want.target) problems.push(`symlink ${q(path)} points to ${q(target)}, the archive says ${q(want.target)}`);
        else symlinks.push(full);
      } else if (st.isDirectory()) {
        problems.push(`${q(path)} was extracted as a directory, the archive says ${want.type}`);
      } else {
        problems.push(`${q(path)} was extracted as something other than a file, directory or symlink`);
      }
    }
  }
  return { problems, found, symlinks, early };
}

/** After every share: all of the tree was found, and each symlink resolves inside the release. */
export function finish(dest: string, treeSize: number, results: ShareResult[]): string[] {
  const problems = results.flatMap((r) => r.problems).slice(0, MAX_PROBLEMS);
  const found = results.reduce((n, r) => n + r.found, 0);
  if (problems.length === 0 && found !== treeSize) {
    problems.push(`${found} entries were extracted, the archive's headers describe ${treeSize}`);
  }
  const root = realpathSync(dest);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  for (const link of results.flatMap((r) => r.symlinks)) {
    if (problems.length >= MAX_PROBLEMS) break;
    let real: string;
    try {
      real = realpathSync(link);
    } catch {
      // Dangling (allowed): resolve what exists and check the rest lexically;
      // pass 1 already resolved it through the archive's own tree.
      real = resolve(realpathSync(dirname(link)), readlinkSync(link));
    }
    if (!inside(real)) problems.push(`symlink ${q(link.slice(dest.length + 1))} resolves outside the release`);
  }
  return problems;
}

/** The whole of pass 3 on one thread. */
export function verifyTree(dest: string, tree: Map<string, Node>): string[] {
  const dirs = checkDirs(dest, tree);
  if (dirs.length > 0) return dirs;
  return finish(dest, tree.size, [verifyDirs(dest, childrenIndex(tree))]);
}

// A share crosses to the other thread as one string (cheap to pass; names
// and targets never hold control characters: the rules refuse them).
const DIR_SEP = '\u0001';
const ENTRY_SEP = '\u0002';
const FIELD_SEP = '\u0003';

export function encodeShare(dirs: DirEntries[]): string {
  const out: string[] = [];
  for (const [dir, children] of dirs) {
    const entries: string[] = [dir];
    for (const [name, n] of children) {
      entries.push(n.type === 'file'
        ? (n.verified ? `${name}${FIELD_SEP}v${FIELD_SEP}${n.size}` : `${name}${FIELD_SEP}f${FIELD_SEP}${n.size}${FIELD_SEP}${n.end ?? ''}`)
        : n.type === 'symlink' ? `${name}${FIELD_SEP}l${FIELD_SEP}${n.target}` : `${name}${FIELD_SEP}d`);
    }
    out.push(entries.join(ENTRY_SEP));
  }
  return out.join(DIR_SEP);
}

export function decodeShare(text: string): DirEntries[] {
  if (text === '') return [];
  return text.split(DIR_SEP).map((d) => {
    const [dir, ...entries] = d.split(ENTRY_SEP);
    const children = new Map<string, Node>();
    for (const e of entries) {
      const [name, kind, value, end] = e.split(FIELD_SEP) as [string, string, string | undefined, string | undefined];
      children.set(name, kind === 'f' || kind === 'v'
        ? { type: 'file', size: Number(value), ...(kind === 'v' ? { verified: true } : end ? { end: Number(end) } : {}) }
        : kind === 'l' ? { type: 'symlink', target: value ?? '' } : { type: 'dir', implicit: false });
    }
    return [dir!, children];
  });
}
