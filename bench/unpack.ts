// Benchmark: our release unpacker (agent/storage/unpack) against GNU `tar -xzf` on a
// node_modules-like tree (~86,000 small files, ~460 MB, ~100 MB .tar.gz).
//   node --import tsx bench/unpack.ts [--runs 3] [--files 86000] [--bytes 460000000] [--work DIR]
// The tree, the tarball and every extraction live under bench/.work/ (gitignored)
// and are removed at the end.
import { mkdirSync, writeFileSync, symlinkSync, rmSync, statSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpackTarball } from '../agent/storage/unpack/index.js';

/** mulberry32: a small deterministic PRNG, so the tree is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const rand = prng(0x5eed);
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Writes back everything dirty before a timed run (untimed): ours ends with a
 * syncfs, which would otherwise also pay for the writes and removals of the
 * run before it, and GNU tar would start with the other's writeback going on.
 */
export function flushDisk(): void {
  spawnSync('sync');
}

export async function benchUnpack(opts: { runs: number; workDir: string; files?: number; approxBytes?: number }): Promise<{
  gnuMs: number[]; oursMs: number[]; medianGnu: number; medianOurs: number; ratio: number; files: number; tarballBytes: number;
}> {
  const work = opts.workDir;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const tree = join(work, 'tree');
    const tarball = join(work, 'release.tar.gz');
    const stats = generateTree(tree, { files: opts.files ?? 86_000, approxBytes: opts.approxBytes ?? 460_000_000 });
    await packTree(tree, tarball);
    rmSync(tree, { recursive: true, force: true });
    const tarballBytes = statSync(tarball).size;
    const gnuMs: number[] = [];
    const oursMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      // Alternate, so page cache and disk state favour neither side.
      const g = join(work, `gnu-${i}`);
      mkdirSync(g);
      flushDisk();
      let t = performance.now();
      await run('tar', ['-xzf', tarball, '-C', g]);
      gnuMs.push(performance.now() - t);
      rmSync(g, { recursive: true, force: true });
      const o = join(work, `ours-${i}`);
      flushDisk();
      t = performance.now();
      await unpackTarball(tarball, o);
      oursMs.push(performance.now() - t);
      rmSync(o, { recursive: true, force: true });
    }
    const medianGnu = median(gnuMs);
    const medianOurs = median(oursMs);
    return { gnuMs, oursMs, medianGnu, medianOurs, ratio: medianOurs / medianGnu, files: stats.files, tarballBytes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --work DIR: where to generate and unpack (e.g. /dev/shm: tmpfs, as dependencies.md §3.7 measured, without disk noise).
  const w = process.argv.indexOf('--work');
  const workDir = join(w >= 0 ? process.argv[w + 1] : join(dirname(fileURLToPath(import.meta.url)), '.work'), `unpack-${process.pid}`);
  const r = await benchUnpack({
    runs: argValue('--runs', 3), workDir,
    files: argValue('--files', 86_000), approxBytes: argValue('--bytes', 460_000_000),
  });
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(`tarball: ${(r.tarballBytes / 1e6).toFixed(1)} MB, ${r.files} files`);
  console.log('extractor      runs (s)                 median');
  console.log(`GNU tar -xzf   ${r.gnuMs.map(s).join(', ').padEnd(24)} ${s(r.medianGnu)}`);
  console.log(`unpackTarball  ${r.oursMs.map(s).join(', ').padEnd(24)} ${s(r.medianOurs)}`);
  console.log(`ratio ours/GNU: ${r.ratio.toFixed(2)}×`);
}
