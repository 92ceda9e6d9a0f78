// Runs a CommonJS bundle with a V8 code cache, so that a short command does
// not spend most of its life compiling JavaScript. The CLI's bundle is
// ~1.3 MB; compiling what `slipway status` runs costs ~100 ms per start,
// reading it from the cache a few. Node 22's module.enableCompileCache does
// the same for modules; Node 20 has only vm.Script's cachedData, used here.
//
// The cache is written after a run that exited 0, so it holds the functions
// that run compiled lazily (V8 includes every function compiled so far),
// one file per command (a `status` run compiles other code than `deploy`).
// It is rewritten when V8 rejects it (another Node, other V8 flags, another
// bundle: V8 checks its source hash and flags). Files go under a directory
// of the user's own (0700), written atomically; any failure to read or write
// it only costs the speed-up.
import vm from 'node:vm';
import { readFileSync, writeFileSync, renameSync, mkdirSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { homedir } from 'node:os';

export interface CodeCache {
  /** The cache file for this bundle and command, or undefined: run without a cache. */
  file?: string;
  /** Load the bundle with require() (no cache): --enable-source-maps is on. */
  require?: boolean;
}

const sourceMapsOn = (env: NodeJS.ProcessEnv) => [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--enable-source-maps');

/**
 * Where the cache of `bundle` for `command` lives: SLIPWAY_CACHE_DIR, else
 * $XDG_CACHE_HOME/slipway, else ~/.cache/slipway. SLIPWAY_CODE_CACHE=0 turns
 * it off. The name carries a key of the bundle (size, mtime), Node's version,
 * the architecture and the V8 flags, so a new install never reads old data.
 */
export function codeCacheFor(bundle: string, command: string, env: NodeJS.ProcessEnv = process.env): CodeCache {
  if (env.SLIPWAY_CODE_CACHE === '0') return {};
  // Node maps stack traces of modules it loads, not of vm.Script code.
  if (sourceMapsOn(env)) return { require: true };
  const dir = env.SLIPWAY_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'slipway');
  if (!ownPrivateDir(dir)) return {};
  let st;
  try { st = statSync(bundle); } catch { return {}; }
  const key = createHash('sha256')
    .update([st.size, st.mtimeMs, process.version, process.arch, process.execArgv.join(' '), env.NODE_OPTIONS ?? ''].join('\0'))
    .digest('hex').slice(0, 16);
  const safeCommand = /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'other';
  return { file: join(dir, `cli-${key}-${safeCommand}.v8`) };
}

/**
 * Removes the cache files beside `file` of other keys (other bundles or
 * Nodes) unused for a day. Only old ones: two Node setups used in turn
 * (other NODE_OPTIONS) must not keep removing each other's.
 */
function removeStale(file: string): void {
  const dir = dirname(file);
  const own = basename(file).split('-').slice(0, 2).join('-'); // cli-<key>
  // "Now" is the new cache file's own mtime: the file system's clock, which the others' mtimes come from too.
  let now: number;
  try {
    now = statSync(file).mtimeMs;
  } catch {
    return;
  }
  const dayAgo = now - 86_400_000;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('cli-') || !f.endsWith('.v8') || f.startsWith(`${own}-`)) continue;
    try {
      if (statSync(join(dir, f)).mtimeMs < dayAgo) rmSync(join(dir, f), { force: true });
    } catch { /* gone already */ }
  }
}

/** Creates `dir` (0700) when missing; true only when it is a directory of this user that no one else may write. */
function ownPrivateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid()) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Runs `bundle` (CommonJS) as the main program, with `cache` read and, after
 * a clean exit, written. Returns whether V8 took code from the cache.
 */
export function runBundle(bundle: string, cache: CodeCache): { fromCache: boolean } {
  if (cache.require) {
    createRequire(bundle)(bundle);
    return { fromCache: false };
  }
  const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
  let cachedData: Buffer | undefined;
  if (cache.file) {
    try { cachedData = readFileSync(cache.file); } catch { /* first run of this command */ }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  if (cache.file && (!cachedData || script.cachedDataRejected)) {
    const file = cache.file;
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, file);
        removeStale(file);
      } catch { /* the next run tries again */ }
    });
  }
  const fn = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  const mod = { exports: {} };
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  fn.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  return { fromCache };
}
