// The git steps of a build: find tags, read the tagged commit, and check it
// out into a throw-away worktree. Thin wrappers over the git CLI.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildError } from './errors.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment for git and the build command, without variables that would point git elsewhere. */
export function cleanGitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX', 'GIT_COMMON_DIR']) delete out[k];
  return out;
}

/** Runs git in `cwd`; never throws for a non-zero exit (the caller decides). */
export function git(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    // Hooks of the operator's repo (post-checkout, say) must not run during a build.
    execFile('git', ['-c', 'core.hooksPath=/dev/null', ...args], { cwd, env: cleanGitEnv(), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new BuildError(code === 'ENOENT' ? 'git is not installed (or not on PATH)' : `cannot run git: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function gitOk(cwd: string, args: string[], what: string): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new BuildError(`${what} failed: git ${args.join(' ')}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return r.stdout;
}

export interface RepoInfo {
  /** The repository's top directory. */
  top: string;
  /** Where `root` sits inside the repository, "" or ending in "/". */
  prefix: string;
}

export async function repoInfo(root: string): Promise<RepoInfo> {
  const r = await git(root, ['rev-parse', '--show-toplevel', '--show-prefix']);
  if (r.code !== 0) throw new BuildError(`${root} is not inside a git repository: slipway build makes releases from git tags; run it in the app's repository (git init, commit, git tag VERSION)`, { usage: true });
  const [top, prefix = ''] = r.stdout.split('\n');
  return { top, prefix };
}

export async function listTags(root: string): Promise<string[]> {
  return (await gitOk(root, ['tag', '--list'], 'listing tags')).split('\n').filter(Boolean);
}

export async function tagsAt(root: string, rev: string): Promise<string[]> {
  return (await gitOk(root, ['tag', '--points-at', rev], 'listing the tags on HEAD')).split('\n').filter(Boolean);
}

/** The commit a tag points at (through annotated tags), or undefined if there is no such tag. */
export async function tagCommit(root: string, tag: string): Promise<string | undefined> {
  const r = await git(root, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** The committer time of a commit, in seconds since the epoch. */
export async function commitTime(root: string, commit: string): Promise<number> {
  const out = (await gitOk(root, ['show', '-s', '--format=%ct', commit], 'reading the commit time')).trim();
  const t = Number(out);
  if (!Number.isSafeInteger(t)) throw new BuildError(`git gave a strange commit time for ${commit}: "${out}"`);
  return t;
}

/** A file's content at a commit (path from the repository's top), or undefined if it is not there. */
export async function fileAt(root: string, commit: string, path: string): Promise<string | undefined> {
  const r = await git(root, ['show', `${commit}:${path}`]);
  return r.code === 0 ? r.stdout : undefined;
}

export interface Worktree {
  dir: string;
  remove(): Promise<void>;
}

/** Checks out `commit` into a fresh temporary worktree; `remove()` always cleans up, also after a failure. */
export async function addWorktree(root: string, commit: string): Promise<Worktree> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-build-'));
  const remove = async (): Promise<void> => {
    await git(root, ['worktree', 'remove', '--force', dir]);
    await rm(dir, { recursive: true, force: true });
    await git(root, ['worktree', 'prune']);
  };
  const r = await git(root, ['worktree', 'add', '--detach', dir, commit]);
  if (r.code !== 0) {
    await remove();
    throw new BuildError(`cannot check out ${commit} into a temporary worktree: ${r.stderr.trim()}`);
  }
  return { dir, remove };
}
