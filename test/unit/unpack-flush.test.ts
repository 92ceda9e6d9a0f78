// The unpacker's durability step, observed for real: the unpack runs in a
// child process under strace, which records every fsync(2) and syncfs(2)
// with the path of its file descriptor (-y). 'tree' must fsync every file
// and directory it wrote (and not follow a symlink); 'fs' must end with a
// syncfs after the writes, and start syncfs runs ahead while GNU tar still
// extracts once the writeback step is passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flushPaths, flushBatches } from '../../agent/storage/unpack/flush.js';
import { ArchiveRules } from '../../agent/storage/unpack/rules.js';
import { tgz, type E } from '../helpers/tarball.js';

const STRACE = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));
const CHILD = fileURLToPath(new URL('../helpers/unpack-child.ts', import.meta.url));

const entries: E[] = [
  { path: 'app/', type: '5' },
  { path: 'app/index.js', data: 'console.log(1)\n' },
  { path: 'app/-n', data: 'a name that looks like an option' },
  { path: 'app/lib/deep/x.js', data: 'x'.repeat(70_000) },
  { path: 'app/link', type: '2', linkpath: 'index.js' },
  { path: 'app/dangling', type: '2', linkpath: 'nothing-here' },
];

/** Unpacks under strace; returns the fsync'd and syncfs'd paths (as strace -y shows them) and the child's result. */
function traced(flush: string, step: number): { fsynced: string[]; syncfs: number; dest: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), 'slipway-unpack-flush-'));
  const tarball = join(base, 'r.tar.gz');
  writeFileSync(tarball, tgz(entries));
  const dest = join(base, 'release');
  const log = join(base, 'strace.log');
  const r = spawnSync(STRACE!, ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync,syncfs', '-o', log, process.execPath, '--import', 'tsx', CHILD, tarball, dest, flush, String(step)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `unpack under strace failed: ${r.stderr}`);
  const lines = readFileSync(log, 'utf8').split('\n');
  // Calls made at the same time are split by strace ("fsync(5</x> <unfinished ...>", later "<... fsync resumed>) = 0"):
  // a call is counted where it starts; none may have failed.
  assert.deepEqual(lines.filter((l) => /= -1 E/.test(l)), [], 'a failed fsync or syncfs');
  const fsynced = lines.map((l) => /\bfsync\(\d+<([^>]*)>/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
  const syncfs = lines.filter((l) => /\bsyncfs\(\d+</.test(l)).length;
  return { fsynced, syncfs, dest, base };
}

test('flushPaths: files and directories and the root, never symlinks; flushBatches covers each path once', () => {
  const rules = new ArchiveRules();
  rules.add({ path: 'a/b/c.js', type: 'File', size: 1 });
  rules.add({ path: 'a/l', type: 'SymbolicLink', size: 0, linkpath: 'b/c.js' });
  rules.add({ path: 'd/', type: 'Directory', size: 0 });
  assert.deepEqual(flushPaths(rules.tree).sort(), ['.', 'a', 'a/b', 'a/b/c.js', 'd']);
  const paths = Array.from({ length: 1000 }, (_, i) => `p/${i}`);
  const batches = flushBatches(paths, 32, 1024);
  assert.ok(batches.length >= 32);
  assert.deepEqual(batches.flat().sort(), [...paths].sort());
  assert.ok(batches.every((b) => b.length > 0));
  // Few paths: no empty batches.
  assert.deepEqual(flushBatches(['x', 'y'], 32), [['x'], ['y']]);
});

test("flush 'tree' fsyncs every file and directory written, the release root too, and follows no symlink", { skip: STRACE ? false : 'strace is not installed (apt-get install strace)' }, () => {
  const t = traced('tree', 64 * 1024 * 1024);
  try {
    const want = ['', '/app', '/app/index.js', '/app/-n', '/app/lib', '/app/lib/deep', '/app/lib/deep/x.js'].map((p) => t.dest + p);
    for (const p of want) assert.ok(t.fsynced.includes(p), `${p} was not fsynced (fsynced: ${t.fsynced.join(', ')})`);
    assert.ok(!t.fsynced.some((p) => p.endsWith('/app/link') || p.includes('nothing-here')), 'a symlink was followed');
    assert.equal(t.syncfs, 0, 'no syncfs in tree mode');
  } finally {
    rmSync(t.base, { recursive: true, force: true });
  }
});

test("flush 'fs' ends with a syncfs, and starts syncfs runs ahead once the writeback step is passed", { skip: STRACE ? false : 'strace is not installed (apt-get install strace)' }, () => {
  const one = traced('fs', 64 * 1024 * 1024);
  try {
    assert.equal(one.syncfs, 1, 'a small release: the final syncfs only');
  } finally {
    rmSync(one.base, { recursive: true, force: true });
  }
  // A step of 1 byte: a syncfs ahead after the first write to GNU tar, then the final one.
  const ahead = traced('fs', 1);
  try {
    assert.ok(ahead.syncfs >= 2, `expected a syncfs ahead and the final one, saw ${ahead.syncfs}`);
  } finally {
    rmSync(ahead.base, { recursive: true, force: true });
  }
});
