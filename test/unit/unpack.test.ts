// agent/unpack against hostile and good archives built byte by byte here
// (raw ustar headers + PAX records + zlib), extracted for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, existsSync, readFileSync, readlinkSync, lstatSync, rmSync, symlinkSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackTarball, UnsafeArchiveError, DEFAULT_LIMITS, type UnpackLimits } from '../../agent/unpack/index.js';
import { SlipwayError } from '../../common/errors.js';

interface E { path: string; type?: string; data?: string | Buffer; linkpath?: string; mode?: number; uid?: number; size?: number }

function octal(buf: Buffer, off: number, len: number, n: number): void {
  buf.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

function header(e: { path: string; type: string; size: number; linkpath?: string; mode: number; uid: number }): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.path, 0, 100, 'utf8');
  octal(h, 100, 8, e.mode);
  octal(h, 108, 8, e.uid);
  octal(h, 116, 8, e.uid);
  octal(h, 124, 12, e.size);
  octal(h, 136, 12, 1_700_000_000);
  h.write(e.type, 156, 1, 'ascii');
  if (e.linkpath) h.write(e.linkpath, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  len += String(len).length;
  if (String(len).length !== String(len - String(len - 1).length).length) len++;
  return `${len}${body}`;
}

/** A tar stream (uncompressed); names over 100 bytes get a PAX header. */
function tarBytes(entries: E[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const size = e.size ?? (type === '0' ? data.length : 0);
    let path = e.path;
    if (Buffer.byteLength(path) > 100 || Buffer.byteLength(e.linkpath ?? '') > 100) {
      const pax = Buffer.from(paxRecord('path', path) + (e.linkpath ? paxRecord('linkpath', e.linkpath) : ''));
      blocks.push(header({ path: 'PaxHeader/x', type: 'x', size: pax.length, mode: 0o644, uid: 0 }), pad(pax));
      path = path.slice(0, 99);
    }
    blocks.push(header({ path, type, size, linkpath: e.linkpath?.slice(0, 100), mode: e.mode ?? (type === '5' ? 0o755 : 0o644), uid: e.uid ?? 0 }));
    if (data.length > 0) blocks.push(pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const tgz = (entries: E[]) => gzipSync(tarBytes(entries));

/** base/ holds the tarball, an empty sentinel dir and (maybe) the release: nothing else may appear. */
function setup(archive: Buffer): { base: string; tarball: string; dest: string; sentinel: string } {
  const base = mkdtempSync(join(tmpdir(), 'slipway-unpack-'));
  const sentinel = join(base, 'sentinel');
  mkdirSync(sentinel);
  const tarball = join(base, 'release.tar.gz');
  writeFileSync(tarball, archive);
  return { base, tarball, dest: join(sentinel, 'release'), sentinel };
}

function assertNothingLeft(s: { base: string; sentinel: string }): void {
  assert.deepEqual(readdirSync(s.base).sort(), ['release.tar.gz', 'sentinel']);
  assert.deepEqual(readdirSync(s.sentinel), []);
}

async function refused(entries: E[] | Buffer, expect: RegExp, limits?: Partial<UnpackLimits>): Promise<void> {
  const s = setup(Buffer.isBuffer(entries) ? entries : tgz(entries));
  try {
    await assert.rejects(unpackTarball(s.tarball, s.dest, { limits }), (err: unknown) => {
      assert.ok(err instanceof UnsafeArchiveError, `expected UnsafeArchiveError, got ${String(err)}`);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /^release tarball refused: /);
      assert.match(err.message, expect);
      assert.ok(err.problems.length > 0);
      return true;
    });
    assertNothingLeft(s);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
}

async function corrupt(archive: Buffer): Promise<void> {
  const s = setup(archive);
  try {
    await assert.rejects(unpackTarball(s.tarball, s.dest), (err: unknown) => {
      assert.ok(err instanceof SlipwayError && !(err instanceof UnsafeArchiveError), String(err));
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /^release tarball is corrupt: /);
      return true;
    });
    assertNothingLeft(s);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
}

const ok: E[] = [{ path: 'app/', type: '5' }, { path: 'app/index.js', data: 'ok' }];

test('refuses ".." paths', async () => {
  await refused([...ok, { path: '../x', data: 'evil' }], /entry "\.\.\/x" has "\.\." in its path/);
  await refused([{ path: 'a/../../x', data: 'evil' }], /entry "a\/\.\.\/\.\.\/x" has "\.\." in its path/);
});

test('refuses absolute paths', async () => {
  await refused([{ path: '/etc/abs', data: 'evil' }], /entry "\/etc\/abs" has an absolute path/);
});

test('refuses symlinks that point outside', async () => {
  await refused([{ path: 'esc', type: '2', linkpath: '../outside' }], /symlink "esc" -> "\.\.\/outside" points outside the release/);
  await refused([{ path: 'etc', type: '2', linkpath: '/etc' }], /symlink "etc" points to the absolute path "\/etc"/);
  // Lexically inside, but a/b is itself a link to the root, so a/b/.. is the parent of the release.
  await refused([{ path: 'a/', type: '5' }, { path: 'a/b', type: '2', linkpath: '..' }, { path: 'c', type: '2', linkpath: 'a/b/..' }],
    /symlink "c" -> "a\/b\/\.\." points outside the release/);
  await refused([{ path: 'x', type: '2', linkpath: 'y' }, { path: 'y', type: '2', linkpath: 'x' }], /loops through other symlinks/);
});

test('refuses writing through a symlink in the archive', async () => {
  await refused([{ path: 'sub/', type: '5' }, { path: 'l', type: '2', linkpath: 'sub' }, { path: 'l/x', data: 'through' }],
    /entry "l\/x" is written through the symlink "l"/);
});

test('refuses hard links, devices, fifos and unknown types', async () => {
  await refused([{ path: 'f', data: 'x' }, { path: 'hl', type: '1', linkpath: 'f' }], /entry "hl" is a hard link/);
  await refused([{ path: 'tty', type: '3' }], /entry "tty" is a character device/);
  await refused([{ path: 'sda', type: '4' }], /entry "sda" is a block device/);
  await refused([{ path: 'pipe', type: '6' }], /entry "pipe" is a fifo/);
  await refused([{ path: 'odd', type: 'Z', data: 'x' }], /entry "odd" has the unsupported type/);
});

test('refuses duplicates that replace a symlink or a directory', async () => {
  await refused([{ path: 'l', type: '2', linkpath: 'x' }, { path: 'l', data: 'x' }], /entry "l" appears twice \(a symlink, then a file\)/);
  await refused([{ path: 'd/f', data: 'x' }, { path: 'd', type: '2', linkpath: '.' }], /entry "d" appears twice \(a dir, then a symlink\)/);
});

test('enforces the limits', async () => {
  const many = Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, data: 'x' }));
  await refused(many, /more than 5 entries/, { maxEntries: 5 });
  await refused([{ path: 'a', data: 'x'.repeat(150) }, { path: 'b', data: 'x'.repeat(150) }], /more than 200 bytes in total/, { maxBytes: 200 });
  await refused([{ path: 'a/b/c/d/e', data: 'x' }], /entry "a\/b\/c\/d\/e" is 5 levels deep, over the limit of 4/, { maxDepth: 4 });
  const long = `${'d'.repeat(60)}/${'f'.repeat(60)}`;
  await refused([{ path: long, data: 'x' }], /has a path of 121 bytes, over the limit of 100/, { maxPathLength: 100 });
  assert.equal(DEFAULT_LIMITS.maxEntries, 200_000);
});

test('refuses a file inside a file', async () => {
  await refused([{ path: 'f', data: 'x' }, { path: 'f/g', data: 'y' }], /entry "f\/g" is inside "f", which is a file/);
});

test('truncated gzip and garbage are corrupt', async () => {
  const good = tgz([...ok, { path: 'big', data: Buffer.alloc(200_000, 7) }]);
  await corrupt(good.subarray(0, Math.floor(good.length / 2)));
  await corrupt(Buffer.from('this is not a tarball at all, just some words\n'.repeat(40)));
  await corrupt(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(2000, 0x55)]));
});

test('extracts a good archive exactly', async () => {
  const longPath = `node_modules/${'@scope/'}${'very-long-package-name-'.repeat(4)}/lib/${'deeply/'.repeat(6)}file.js`;
  assert.ok(longPath.length > 100);
  const s = setup(tgz([
    { path: './', type: '5' },
    { path: 'app/', type: '5' },
    { path: 'app/lib/', type: '5' },
    { path: 'app/lib/util.js', data: 'export const x = 1;\n' },
    { path: 'app/bin/', type: '5' },
    { path: 'app/bin/run', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { path: 'app/run', type: '2', linkpath: 'bin/run' },
    { path: 'app/lib/up', type: '2', linkpath: '../bin' },
    { path: 'dangling', type: '2', linkpath: 'not/there' },
    { path: longPath, data: 'long' },
    { path: 'owned', data: 'o', uid: 4242 },
  ]));
  try {
    const seen: number[] = [];
    const r = await unpackTarball(s.tarball, s.dest, { onProgress: (n) => seen.push(n) });
    assert.equal(r.entries, 11);
    assert.equal(r.bytes, 20 + 18 + 4 + 1);
    assert.ok(r.ms >= 0);
    assert.ok(seen.length > 0 && seen.at(-1) === 11);
    const d = s.dest;
    assert.equal(lstatSync(d).mode & 0o7777, 0o755);
    assert.equal(readFileSync(join(d, 'app/lib/util.js'), 'utf8'), 'export const x = 1;\n');
    assert.equal(lstatSync(join(d, 'app/bin/run')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(d, 'app/lib/util.js')).mode & 0o7777, 0o644);
    assert.equal(lstatSync(join(d, 'app/lib')).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(join(d, 'app/run')), 'bin/run');
    assert.equal(readFileSync(join(d, 'app/run'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(readlinkSync(join(d, 'app/lib/up')), '../bin');
    assert.equal(readlinkSync(join(d, 'dangling')), 'not/there');
    assert.equal(readFileSync(join(d, longPath), 'utf8'), 'long');
    assert.equal(lstatSync(join(d, 'owned')).uid, process.getuid?.());
    assert.deepEqual(readdirSync(s.base).sort(), ['release.tar.gz', 'sentinel']);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});

test('setuid, setgid and sticky bits never survive', async () => {
  const s = setup(tgz([
    { path: 'suid', data: 'x', mode: 0o4755 },
    { path: 'sgid', data: 'x', mode: 0o2755 },
    { path: 'tmp/', type: '5', mode: 0o1777 },
    { path: 'open', data: 'x', mode: 0o666 },
  ]));
  try {
    await unpackTarball(s.tarball, s.dest);
    assert.equal(lstatSync(join(s.dest, 'suid')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(s.dest, 'sgid')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(s.dest, 'tmp')).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(s.dest, 'open')).mode & 0o7777, 0o644);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});

test('an existing dest is an error and is left alone', async () => {
  const s = setup(tgz(ok));
  try {
    mkdirSync(s.dest);
    writeFileSync(join(s.dest, 'keep'), 'k');
    await assert.rejects(unpackTarball(s.tarball, s.dest), /already exists/);
    assert.ok(existsSync(join(s.dest, 'keep')));
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});

test('abort removes dest', async () => {
  const files = Array.from({ length: 3000 }, (_, i) => ({ path: `d${i % 50}/f${i}`, data: `content ${i}`.repeat(20) }));
  const s = setup(tgz(files));
  try {
    const ac = new AbortController();
    const p = unpackTarball(s.tarball, s.dest, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(p, (err: unknown) => err instanceof SlipwayError && err.code === 'ABORTED');
    assertNothingLeft(s);
    const already = new AbortController();
    already.abort();
    await assert.rejects(unpackTarball(s.tarball, s.dest, { signal: already.signal }), /aborted/);
    assertNothingLeft(s);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});

test('pass 3 catches a tree that differs from the headers', async () => {
  const { verifyTree } = await import('../../agent/unpack/verify.js');
  const { ArchiveRules } = await import('../../agent/unpack/rules.js');
  const base = mkdtempSync(join(tmpdir(), 'slipway-verify-'));
  try {
    const rules = new ArchiveRules();
    rules.add({ path: 'a/f', type: 'File', size: 1 });
    rules.add({ path: 'l', type: 'SymbolicLink', size: 0, linkpath: 'a' });
    mkdirSync(join(base, 'a'));
    writeFileSync(join(base, 'a/f'), 'x');
    symlinkSync('a', join(base, 'l'));
    assert.deepEqual(verifyTree(base, rules.tree), []);
    writeFileSync(join(base, 'extra'), 'x');
    assert.match(verifyTree(base, rules.tree).join('\n'), /"extra" was extracted but is not in the archive's headers/);
    rmSync(join(base, 'extra'));
    linkSync(join(base, 'a/f'), join(base, 'a/g'));
    rules.add({ path: 'a/g', type: 'File', size: 1 });
    assert.match(verifyTree(base, rules.tree).join('\n'), /"a\/f" has 2 hard links/);
    rmSync(join(base, 'a/g'));
    rules.tree.delete('a/g');
    rmSync(join(base, 'l'));
    symlinkSync('..', join(base, 'l'));
    assert.match(verifyTree(base, rules.tree).join('\n'), /symlink "l" points to "\.\.", the archive says "a"/);
    rmSync(join(base, 'l'));
    writeFileSync(join(base, 'l'), 'not a link');
    assert.match(verifyTree(base, rules.tree).join('\n'), /"l" was extracted as a file, the archive says symlink/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
