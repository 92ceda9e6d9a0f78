// Keeping secrets and built releases out of git: where a private key may be
// written (not where `git add -A` would commit it), and the .gitignore
// entries `slipway init` adds. The decisions are pure; git is asked through
// two read-only commands (rev-parse, check-ignore).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SlipwayError } from '../common/errors.js';

/** What slipway writes that must never be committed: built tarballs and state, private keys. */
export const IGNORED_ENTRIES = ['.slipway/', '*.key', '*-key.pem'] as const;

export type Placement =
  | { inWorkTree: false }
  | { inWorkTree: true; top: string; ignored: boolean };

/** The nearest directory of `path` (itself or an ancestor) that exists: git can only be asked from there. */
function existingDir(path: string): string {
  let d = dirname(resolve(path));
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function git(cwd: string, args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() };
  } catch (err) {
    const e = err as { status?: number | null; code?: string };
    // ENOENT: no git on this machine, so nothing here can be committed by it.
    return { code: typeof e.status === 'number' ? e.status : -1, out: '' };
  }
}

/** Whether `path` lies in a git work tree, and if so whether git ignores it (a tracked file is not ignored). */
export function placementOf(path: string): Placement {
  const cwd = existingDir(path);
  const top = git(cwd, ['rev-parse', '--show-toplevel']);
  if (top.code !== 0 || top.out === '') return { inWorkTree: false };
  const rel = relative(top.out, resolve(path));
  // check-ignore exits 0 when ignored, 1 when not; anything else (an error) counts as not ignored.
  return { inWorkTree: true, top: top.out, ignored: git(top.out, ['check-ignore', '-q', '--', rel]).code === 0 };
}

/** The refusal for a private key that git would commit; undefined when it may be written. */
export function keyPlacementProblem(path: string, placement: Placement, what: string): string | undefined {
  if (!placement.inWorkTree || placement.ignored) return undefined;
  const rel = relative(placement.top, resolve(path));
  return `refusing to write ${what} ${rel} inside the git work tree ${placement.top}: git does not ignore it, so \`git add -A\` would commit it. ` +
    `Keep private keys outside the repository (e.g. under ~/.config/slipway/, or a secrets manager for CI), ` +
    `or ignore them (\`slipway init\` adds ${IGNORED_ENTRIES.join(', ')} to .gitignore), ` +
    'or pass --allow-in-git to write it anyway. Nothing was written.';
}

/** Throws SLIPWAY_ERR_UNSAFE_FILE (exit 2) before anything is written when any of the private keys would be committable. */
export function assertKeysIgnored(keys: { path: string; what: string }[], allowInGit: boolean): void {
  if (allowInGit) return;
  for (const k of keys) {
    const problem = keyPlacementProblem(k.path, placementOf(k.path), k.what);
    if (problem) throw new SlipwayError('SLIPWAY_ERR_UNSAFE_FILE', problem);
  }
}

/** The .gitignore text with slipway's entries added where missing (pure); `added` lists them. */
export function withIgnoredEntries(existing: string): { text: string; added: string[] } {
  const have = new Set(existing.split('\n').map((l) => l.trim()));
  const added = IGNORED_ENTRIES.filter((e) => !have.has(e));
  if (added.length === 0) return { text: existing, added: [] };
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const header = '# slipway: built releases and private keys stay out of git';
  const lines = have.has(header) ? added : [header, ...added];
  return { text: `${existing}${sep}${lines.join('\n')}\n`, added: [...added] };
}

/** Adds slipway's entries to `<dir>/.gitignore` (made if missing); returns the file and what was added. */
export function ensureGitignore(dir: string): { file: string; added: string[] } {
  const file = join(resolve(dir), '.gitignore');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const { text, added } = withIgnoredEntries(existing);
  if (added.length > 0) writeFileSync(file, text, { mode: 0o644 });
  return { file, added };
}
