// packRelease and the file walk: same tree, same bytes, whatever the disk says.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readFile, chmod, symlink, utimes, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { packRelease, normalisedMode } from '../../coordinator/build/pack.js';
import { collectReleaseFiles, comparePaths, normaliseInclude, parentsOf, resolveInRelease, symlinkProblems, type EntryKind } from '../../coordinator/build/files.js';
import { BuildError } from '../../coordinator/build/errors.js';

const MTIME = new Date('2026-11-27T10:00:00Z');

async function makeTree(dir: string, reverse: boolean): Promise<void> {
  const files: [string, string, number][] = [
    ['app/server.js', 'server\n', 0o644],
    ['app/bin/run', '#!/bin/sh\n', 0o755],
    ['app/secret.txt', 'private\n', 0o600],
    ['node_modules/a/index.js', 'a\n', 0o664],
    ['node_modules/a-b/index.js', 'ab\n', 0o644],
    ['node_modules/.bin/x.js', 'x\n', 0o644],
  ];
  if (reverse) files.reverse();
  for (const [f, body, mode] of files) {
    await mkdir(join(dir, f, '..'), { recursive: true, mode: reverse ? 0o700 : 0o755 });
    await writeFile(join(dir, f), body);
    await chmod(join(dir, f), reverse && mode === 0o755 ? 0o700 : mode);
    await utimes(join(dir, f), reverse ? new Date(1e9) : new Date(), reverse ? new Date(1e9) : new Date());
  }
  await symlink('../a/index.js', join(dir, 'node_modules/.bin/a'));
}

interface Entry { path: string; type: string; mode?: number; mtime?: Date; uid?: number; gid?: number; uname?: string; size?: number }
async function list(file: string): Promise<Entry[]> {
  const out: Entry[] = [];
  await tar.t({ file, onReadEntry: (e) => { out.push({ path: e.path, type: e.type, mode: e.mode, mtime: e.mtime, uid: e.uid, gid: e.gid, uname: e.uname, size: e.size }); } });
  return out;
}

describe('packRelease', () => {
  let base: string;
  before(async () => { base = await mkdtemp(join(tmpdir(), 'slipway-pack-test-')); });
  after(async () => { await rm(base, { recursive: true, force: true }); });

  test('two trees made differently pack to the same bytes', async () => {
    await makeTree(join(base, 't1'), false);
    await makeTree(join(base, 't2'), true);
    const include = ['app', 'node_modules'];
    const f1 = await collectReleaseFiles(join(base, 't1'), include);
    const f2 = await collectReleaseFiles(join(base, 't2'), include);
    assert.deepEqual(f1.paths, f2.paths);
    const r1 = await packRelease(join(base, 't1'), f1.paths, '{"app":"x"}\n', join(base, 'out/1.tar.gz'), MTIME);
    const r2 = await packRelease(join(base, 't2'), f2.paths, '{"app":"x"}\n', join(base, 'out/2.tar.gz'), MTIME);
    assert.equal(r1.sha256, r2.sha256);
    assert.deepEqual(await readFile(join(base, 'out/1.tar.gz')), await readFile(join(base, 'out/2.tar.gz')));
    assert.equal(r1.sha256, createHash('sha256').update(await readFile(join(base, 'out/1.tar.gz'))).digest('hex'));
    assert.equal(r1.size, (await readFile(join(base, 'out/1.tar.gz'))).length);
    assert.equal(r1.files, f1.paths.length + 1);
  });

  test('entries: manifest first, sorted, fixed mtime, no owners, normalised modes', async () => {
    const entries = await list(join(base, 'out/1.tar.gz'));
    assert.deepEqual(entries.map((e) => e.path), [
      'slipway.json',
      'app/', 'app/bin/', 'app/bin/run', 'app/secret.txt', 'app/server.js',
      'node_modules/', 'node_modules/.bin/', 'node_modules/.bin/a', 'node_modules/.bin/x.js',
      'node_modules/a/', 'node_modules/a/index.js', 'node_modules/a-b/', 'node_modules/a-b/index.js',
    ]);
    const mode = Object.fromEntries(entries.map((e) => [e.path, e.mode]));
    assert.equal(mode['app/'], 0o755);
    assert.equal(mode['app/bin/run'], 0o755);
    assert.equal(mode['app/secret.txt'], 0o644);
    assert.equal(mode['node_modules/a/index.js'], 0o644);
    assert.equal(mode['slipway.json'], 0o644);
    for (const e of entries) {
      assert.equal(e.mtime?.getTime(), MTIME.getTime(), e.path);
      assert.equal(e.uid ?? 0, 0);
      assert.equal(e.gid ?? 0, 0);
      assert.equal(e.uname ?? '', '');
    }
    assert.equal(entries.find((e) => e.path === 'node_modules/.bin/a')?.type, 'SymbolicLink');
  });

  test('the gzip header carries no time and no file name', async () => {
    const head = (await readFile(join(base, 'out/1.tar.gz'))).subarray(0, 10);
    assert.equal(head[0], 0x1f);
    assert.equal(head[1], 0x8b);
    assert.equal(head[3] & 0x08, 0, 'FNAME flag');
    assert.equal(head.readUInt32LE(4), 0, 'MTIME');
  });

  test('hard links are stored as plain files (the same either way)', async () => {
    const dir = join(base, 'hard');
    await mkdir(join(dir, 'a'), { recursive: true });
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'a/bin'), 'binary\n');
    await link(join(dir, 'a/bin'), join(dir, 'b/bin'));
    const copy = join(base, 'hard-copy');
    await mkdir(join(copy, 'a'), { recursive: true });
    await mkdir(join(copy, 'b'), { recursive: true });
    await writeFile(join(copy, 'a/bin'), 'binary\n');
    await writeFile(join(copy, 'b/bin'), 'binary\n');
    const f = await collectReleaseFiles(dir, ['a', 'b']);
    const r1 = await packRelease(dir, f.paths, '{}', join(base, 'out/h1.tar.gz'), MTIME);
    const r2 = await packRelease(copy, f.paths, '{}', join(base, 'out/h2.tar.gz'), MTIME);
    assert.equal(r1.sha256, r2.sha256);
    assert.deepEqual((await list(join(base, 'out/h1.tar.gz'))).map((e) => e.type), ['File', 'Directory', 'File', 'Directory', 'File']);
  });

  test('refuses slipway.json among the files and leaves no temp file on failure', async () => {
    await assert.rejects(packRelease(base, ['slipway.json'], '{}', join(base, 'out/x.tar.gz'), MTIME), /written by the build/);
    await assert.rejects(packRelease(join(base, 't1'), ['missing.js'], '{}', join(base, 'out/y.tar.gz'), MTIME));
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(join(base, 'out'))).filter((n) => n.startsWith('.tmp')), []);
  });
});

describe('collectReleaseFiles', () => {
  let base: string;
  before(async () => { base = await mkdtemp(join(tmpdir(), 'slipway-files-test-')); });
  after(async () => { await rm(base, { recursive: true, force: true }); });

  test('a nested include brings its parent directories; duplicates count once', async () => {
    await mkdir(join(base, 'dist/sub'), { recursive: true });
    await writeFile(join(base, 'dist/sub/a.js'), '');
    await writeFile(join(base, 'dist/b.js'), '');
    const f = await collectReleaseFiles(base, ['./dist/sub/a.js', 'dist', 'dist/b.js']);
    assert.deepEqual(f.paths, ['dist', 'dist/b.js', 'dist/sub', 'dist/sub/a.js']);
  });

  test('names every missing entry, and links that leave the release or dangle', async () => {
    await mkdir(join(base, 'l'), { recursive: true });
    await symlink('/etc/passwd', join(base, 'l/abs'));
    await symlink('../../x', join(base, 'l/up'));
    await symlink('gone.js', join(base, 'l/dangling'));
    await symlink('.', join(base, 'l/self'));
    await assert.rejects(collectReleaseFiles(base, ['l', 'nope', 'dist/nope']), (err: unknown) => {
      assert.ok(err instanceof BuildError);
      assert.match(err.message, /"nope" does not exist/);
      assert.match(err.message, /"dist\/nope" does not exist/);
      assert.match(err.message, /l\/abs -> \/etc\/passwd points outside/);
      assert.match(err.message, /l\/up -> \.\.\/\.\.\/x points outside/);
      assert.match(err.message, /l\/dangling -> gone\.js points at l\/gone\.js, which the release does not hold/);
      assert.doesNotMatch(err.message, /l\/self/);
      return true;
    });
  });

  test('refuses a slipway.json of its own and git data', async () => {
    await writeFile(join(base, 'slipway.json'), '{}');
    await mkdir(join(base, '.git'), { recursive: true });
    await assert.rejects(collectReleaseFiles(base, ['slipway.json']), /written by slipway build/);
    await assert.rejects(collectReleaseFiles(base, ['.git']), /git's own data/);
  });
});

describe('path helpers', () => {
  test('normaliseInclude', () => {
    assert.equal(normaliseInclude('./dist/'), 'dist');
    assert.equal(normaliseInclude('a//b'), 'a/b');
    for (const bad of ['/abs', '../x', 'a/../../b', '.', './', 'C:\\x']) {
      assert.throws(() => normaliseInclude(bad), (e: unknown) => e instanceof BuildError && e.usage, bad);
    }
  });

  test('comparePaths puts a directory right before its contents', () => {
    const paths = ['a-b', 'a/b', 'a', 'a/b/c', 'B', 'a.js', 'a/a'];
    assert.deepEqual([...paths].sort(comparePaths), ['B', 'a', 'a/a', 'a/b', 'a/b/c', 'a-b', 'a.js']);
    assert.deepEqual(parentsOf('a/b/c'), ['a', 'a/b']);
    assert.deepEqual(parentsOf('a'), []);
  });

  test('resolveInRelease follows links inside the release only', () => {
    const links = new Map([['nm/.bin/x', '../pkg/bin/x'], ['nm/pkg', '../packages/pkg'], ['nm/ws', 'real'], ['loop', 'loop/x']]);
    assert.equal(resolveInRelease('nm/.bin/y', '../a/b.js', links), 'nm/a/b.js');
    assert.equal(resolveInRelease('nm/.bin/x', '../pkg/bin/x', links), 'packages/pkg/bin/x');
    assert.equal(resolveInRelease('nm/.bin/z', '../ws/i.js', links), 'nm/real/i.js');
    assert.equal(resolveInRelease('top', '../x', links), undefined);
    assert.equal(resolveInRelease('a', '/etc', links), undefined);
    assert.equal(resolveInRelease('loop', 'loop/x', links), undefined);
    const kinds = new Map<string, EntryKind>([['nm', 'dir'], ['nm/real', 'dir'], ['nm/real/i.js', 'file'], ['nm/ws', 'symlink'], ['nm/.bin', 'dir'], ['nm/.bin/z', 'symlink']]);
    assert.deepEqual(symlinkProblems(kinds, new Map([['nm/ws', 'real'], ['nm/.bin/z', '../ws/i.js']])), []);
  });

  test('normalisedMode', () => {
    const st = (mode: number, dir = false, link = false) => ({ mode, isDirectory: () => dir, isSymbolicLink: () => link });
    assert.equal(normalisedMode(st(0o40700, true)), 0o40755);
    assert.equal(normalisedMode(st(0o100600)), 0o100644);
    assert.equal(normalisedMode(st(0o100744)), 0o100755);
    assert.equal(normalisedMode(st(0o100601)), 0o100755);
    assert.equal(normalisedMode(st(0o104755)), 0o100755, 'setuid dropped');
  });
});
