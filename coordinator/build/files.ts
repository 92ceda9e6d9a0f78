// Which files a release holds: the `build.include` entries, walked without
// following links, in one stable order (parents before their contents,
// siblings by plain string order), so the same tree always packs the same.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { MANIFEST_FILE } from '../../common/manifest.js';
import { BuildError } from './errors.js';

export type EntryKind = 'file' | 'dir' | 'symlink';

/** Checks one include entry and returns it normalised ("./dist/" → "dist"). */
export function normaliseInclude(entry: string): string {
  if (entry.includes('\0')) throw new BuildError(`build.include entry ${JSON.stringify(entry)} holds a NUL byte`, { usage: true });
  if (entry.startsWith('/') || /^[A-Za-z]:[\\/]/.test(entry)) {
    throw new BuildError(`build.include entry "${entry}" is absolute: list paths relative to the app's directory`, { usage: true });
  }
  const parts = entry.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new BuildError(`build.include entry "${entry}" contains "..": a release holds only files of the app's directory`, { usage: true });
  if (parts.length === 0) throw new BuildError(`build.include entry "${entry}" names the whole directory: list the files and folders the release holds`, { usage: true });
  return parts.join('/');
}

/** Orders paths component by component: "a" < "a/b" < "a-b" (a parent comes right before its contents). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Parent directories of a relative path, outermost first: "a/b/c" → ["a", "a/b"]. */
export function parentsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Where a symlink at `linkPath` pointing at `target` ends up inside the release,
 * following links it passes through; undefined when it leads outside the release.
 */
export function resolveInRelease(linkPath: string, target: string, links: ReadonlyMap<string, string>, depth = 0): string | undefined {
  if (depth > 40 || target.startsWith('/')) return undefined;
  const start = posix.dirname(linkPath) === '.' ? [] : posix.dirname(linkPath).split('/');
  const out = [...start];
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(p);
    const here = out.join('/');
    const inner = links.get(here);
    if (inner !== undefined && i < parts.length - 1) {
      // A link in the middle of the path: continue from where it points.
      const via = resolveInRelease(here, inner, links, depth + 1);
      if (via === undefined) return undefined;
      out.splice(0, out.length, ...(via === '' ? [] : via.split('/')));
    }
  }
  return out.join('/');
}

/** The problems with the symlinks of a release: links that leave it or point at nothing in it. */
export function symlinkProblems(kinds: ReadonlyMap<string, EntryKind>, links: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [path, target] of links) {
    const at = resolveInRelease(path, target, links);
    if (at === undefined) {
      problems.push(`symlink ${path} -> ${target} points outside the release`);
    } else if (at !== '' && !kinds.has(at)) {
      problems.push(`symlink ${path} -> ${target} points at ${at}, which the release does not hold`);
    }
  }
  return problems;
}

/** Records the parents of `rel` as directories; returns the first that is not one on disk. */
async function firstNonDirParent(dir: string, rel: string, kinds: Map<string, EntryKind>): Promise<string | undefined> {
  for (const p of parentsOf(rel)) {
    const known = kinds.get(p);
    if (known === 'dir') continue;
    if (known !== undefined || !(await lstat(join(dir, p))).isDirectory()) return p;
    kinds.set(p, 'dir');
  }
  return undefined;
}

export interface ReleaseFiles {
  /** Every path, sorted with comparePaths; directories included. */
  paths: string[];
  kinds: Map<string, EntryKind>;
}

/** Walks the include entries under `dir`; errors name a missing entry, an odd file type or a bad link. */
export async function collectReleaseFiles(dir: string, include: readonly string[]): Promise<ReleaseFiles> {
  const kinds = new Map<string, EntryKind>();
  const links = new Map<string, string>();
  const problems: string[] = [];

  const add = async (rel: string, kind: EntryKind | 'other'): Promise<void> => {
    if (rel === MANIFEST_FILE) {
      problems.push(`${MANIFEST_FILE} is written by slipway build; take it out of build.include`);
      return;
    }
    if (kind === 'other') {
      problems.push(`${rel} is not a file, directory or symlink`);
      return;
    }
    if (kinds.has(rel)) return;
    kinds.set(rel, kind);
    if (kind === 'symlink') links.set(rel, await readlink(join(dir, rel)));
    if (kind === 'dir') await walk(rel);
  };
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const kind = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other';
      await add(`${rel}/${e.name}`, kind);
    }
  };

  for (const raw of include) {
    const rel = normaliseInclude(raw);
    let st;
    try {
      st = await lstat(join(dir, rel));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        problems.push(`build.include entry "${raw}" does not exist after the build (in the tagged commit plus what build.command made)`);
        continue;
      }
      throw err;
    }
    if (rel === '.git' || rel.startsWith('.git/')) {
      problems.push(`build.include entry "${raw}" is git's own data`);
      continue;
    }
    const badParent = await firstNonDirParent(dir, rel, kinds);
    if (badParent !== undefined) {
      problems.push(`build.include entry "${raw}" lies under ${badParent}, which is not a real directory (a symlink?)`);
      continue;
    }
    await add(rel, st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other');
  }
  problems.push(...symlinkProblems(kinds, links));
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    throw new BuildError(`the release cannot be packed:\n${shown.map((p) => `  - ${p}`).join('\n')}${more}`);
  }
  const paths = [...kinds.keys()].sort(comparePaths);
  return { paths, kinds };
}
