// The bench release: a deterministic node_modules-like tree and its tarball.
// Kept apart from the benchmarks that use it: bench/pipeline.ts keys its
// cached tarball on this file's text, so a change to a benchmark's method
// does not regenerate the release (about 3 minutes at full size).
import { mkdirSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { rng } from '../test/helpers/chaos/plan.js';

const SYLLABLES = ['re', 'act', 'dom', 'use', 'state', 'ex', 'port', 'im', 'func', 'tion', 'con', 'st', 'let', 'var',
  'ret', 'urn', 'pro', 'mise', 'async', 'wait', 'obj', 'ect', 'arr', 'ay', 'map', 'set', 'get', 'val', 'ue', 'key',
  'ind', 'ex', 'len', 'gth', 'str', 'ing', 'num', 'ber', 'err', 'or', 'call', 'back', 'emit', 'ter', 'buf', 'fer'];
const PUNCT = [' ', ' ', ' ', '.', '(', ')', ' = ', ';\n', ', ', '{\n  ', '\n}\n', ' => ', '[', ']', "'", ':'];

/**
 * A pool of semi-compressible "source code": words from a large synthetic
 * vocabulary with punctuation, plus runs of random base64 (minified
 * identifiers, hashes, source maps). Files take slices of it at random
 * offsets, so gzip (32 KiB window) cannot share matches between files and
 * the tarball compresses about as well as the pool: roughly 4.6:1.
 */
function makePool(rand: () => number, size: number): Buffer {
  const vocab: string[] = [];
  for (let i = 0; i < 3000; i++) {
    let w = '';
    const n = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < n; j++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    if (rand() < 0.3) w = w[0]!.toUpperCase() + w.slice(1);
    vocab.push(w);
  }
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const parts: string[] = [];
  let len = 0;
  let recent = '';
  while (len < size) {
    let s: string;
    if (rand() < 0.15 && recent.length > 4000) {
      // Repeat a recent phrase, as code does: gzip finds it within its window.
      const from = recent.length - 100 - Math.floor(rand() * 3000);
      s = recent.slice(Math.max(0, from), Math.max(0, from) + 30 + Math.floor(rand() * 120));
    } else if (rand() < 0.01) {
      s = '';
      const n = 20 + Math.floor(rand() * 90);
      for (let i = 0; i < n; i++) s += b64[Math.floor(rand() * 64)];
    } else {
      // Zipf-ish: most words come from the front of the vocabulary.
      s = vocab[Math.floor(vocab.length * rand() * rand() * rand())]! + PUNCT[Math.floor(rand() * PUNCT.length)]!;
    }
    parts.push(s);
    len += s.length;
    recent += s;
    if (recent.length > 8000) recent = recent.slice(-4000);
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
}

const DIRS = ['lib', 'dist', 'src', 'esm', 'cjs', 'types', 'build', 'utils', 'internal', 'helpers', 'test', 'docs'];
const EXTS = ['.js', '.js', '.js', '.d.ts', '.mjs', '.cjs', '.map', '.json', '.md', '.ts'];

export interface TreeStats { files: number; dirs: number; symlinks: number; bytes: number }

/**
 * Writes a node_modules-like tree into `dir` (which must not exist):
 * node_modules/<pkg>/{package.json,README.md,lib/…,dist/…}, some scoped
 * packages, nested node_modules, executables and relative .bin symlinks.
 * Deterministic for given options.
 */
export function generateTree(dir: string, opts: { files: number; approxBytes: number }): TreeStats {
  const rand = rng(0x5eed);
  const pool = makePool(rand, 8 * 1024 * 1024);
  const mean = opts.approxBytes / opts.files;
  const stats: TreeStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const mkdir = (p: string) => { mkdirSync(p, { recursive: true }); stats.dirs++; };
  const writeFile = (p: string, mode = 0o644) => {
    // Exponential sizes around the mean, capped at 24× it: many tiny files, a few big ones.
    const size = Math.min(Math.floor(-Math.log(1 - rand()) * mean), Math.floor(mean * 24));
    const off = Math.floor(rand() * (pool.length - size));
    writeFileSync(p, pool.subarray(off, off + size), { mode });
    stats.files++;
    stats.bytes += size;
  };
  const root = join(dir, 'node_modules');
  mkdir(join(root, '.bin'));
  let pkg = 0;
  while (stats.files < opts.files) {
    const scoped = rand() < 0.15;
    const name = `${scoped ? `@scope${pkg % 37}/` : ''}pkg-${pkg.toString(36)}-${Math.floor(rand() * 1e6).toString(36)}`;
    const nested = pkg > 50 && rand() < 0.2;
    const base = nested ? join(root, `pkg-${Math.floor(rand() * 50).toString(36)}-nested`, 'node_modules', name) : join(root, name);
    mkdir(base);
    writeFile(join(base, 'package.json'));
    writeFile(join(base, 'README.md'));
    const count = Math.min(5 + Math.floor(rand() * rand() * 150), opts.files - stats.files);
    const subdirs: string[] = [base];
    for (let i = 0; i < count; i++) {
      if (rand() < 0.12) {
        const parent = subdirs[Math.floor(rand() * subdirs.length)]!;
        const d = join(parent, DIRS[Math.floor(rand() * DIRS.length)]! + (rand() < 0.3 ? `-${i}` : ''));
        if (!existsSync(d)) { mkdir(d); subdirs.push(d); }
      }
      const parent = subdirs[Math.floor(rand() * subdirs.length)]!;
      writeFile(join(parent, `file-${i}-${Math.floor(rand() * 1e4)}${EXTS[Math.floor(rand() * EXTS.length)]}`));
    }
    if (!nested && rand() < 0.1) {
      mkdir(join(base, 'bin'));
      writeFile(join(base, 'bin', 'cli.js'), 0o755);
      symlinkSync(`../${name}/bin/cli.js`, join(root, '.bin', `cli-${pkg.toString(36)}`));
      stats.symlinks++;
    }
    pkg++;
  }
  return stats;
}

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => { if (err.length < 4000) err += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

/** Packs `dir` into a gzip'd tarball with GNU tar (sorted, owner 0, like `slipway build`). */
export async function packTree(dir: string, tarballPath: string): Promise<void> {
  await run('sh', ['-c', 'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "$1" . | gzip -n -6 > "$2"',
    'sh', dir, tarballPath]);
}
