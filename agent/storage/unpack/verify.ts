// Pass 3: an lstat walk of the extracted release, independent of the tar
// parsers. Everything found must be exactly what pass 1 read from the
// headers (same paths, same types, same file sizes, same link targets), only
// files, directories and symlinks, no hard links, and every symlink must
// resolve inside the release. Modes become exactly 0755 (directories, and
// files with any x bit in the archive) or 0644: no setuid/setgid/sticky, no
// group/other write, nothing unreadable. Synchronous fs
// calls: this runs in the unpack worker, never on the agent's event loop.
import { lstatSync, readdirSync, readlinkSync, realpathSync, chmodSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Node } from './rules.js';
import { MAX_PROBLEMS } from './rules.js';
import { printable } from '../../../common/names.js';

export function verifyTree(dest: string, tree: Map<string, Node>): string[] {
  const problems: string[] = [];
  const root = realpathSync(dest);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  const q = (p: string) => `"${printable(p, 120)}"`;
  let found = 0;
  const symlinks: string[] = [];

  const walk = (rel: string) => {
    const abs = rel === '' ? dest : join(dest, rel);
    for (const name of readdirSync(abs)) {
      if (problems.length >= MAX_PROBLEMS) return;
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(abs, name);
      const st = lstatSync(full);
      const want = tree.get(path);
      found++;
      if (!want) { problems.push(`${q(path)} was extracted but is not in the archive's headers`); continue; }
      if (st.isDirectory()) {
        if (want.type !== 'dir') { problems.push(`${q(path)} was extracted as a directory, the archive says ${want.type}`); continue; }
        // Before walking in: a directory the archive made 0000 must be readable.
        if ((st.mode & 0o7777) !== 0o755) chmodSync(full, 0o755);
        walk(path);
      } else if (st.isFile()) {
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
      } else {
        problems.push(`${q(path)} was extracted as something other than a file, directory or symlink`);
      }
    }
  };
  walk('');
  if (problems.length === 0 && found !== tree.size) {
    problems.push(`${found} entries were extracted, the archive's headers describe ${tree.size}`);
  }
  for (const link of symlinks) {
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
