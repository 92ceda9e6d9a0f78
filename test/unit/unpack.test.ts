// agent/storage/unpack against hostile and good archives built byte by byte here
// (raw ustar headers + PAX records + zlib), extracted for real.
// Longer than ~300 lines on purpose: the unpacker's whole catalogue of refused archives, each case a few lines beside its builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, existsSync, readFileSync, readlinkSync, lstatSync, rmSync, symlinkSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackTarball, UnsafeArchiveError, DEFAULT_LIMITS, type UnpackLimits } from '../../agent/storage/unpack/index.js';
import { SlipwayError } from '../../common/errors.js';
import { header, paxRecord, tarBytes, tgz, pax, gnuLong, base256, zeroMembers, type E } from '../helpers/tarball.js';


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
      assert.equal(err.code, 'SLIPWAY_ERR_UNSAFE_ARCHIVE');
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
      assert.equal(err.code, 'SLIPWAY_ERR_CORRUPT_ARCHIVE');
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

test('a large tree is verified on two threads (the verify helper), a small one on one; a helper that goes away costs only time', async () => {
  const files = Array.from({ length: 600 }, (_, i) => ({ path: `d${i % 30}/sub${i % 7}/f${i}`, data: `file ${i}\n` }));
  const s = setup(tgz([...files, { path: 'link', type: '2', linkpath: 'd1/sub1' }]));
  try {
    const r = await unpackTarball(s.tarball, s.dest, { parallelVerifyMin: 100 });
    assert.equal(r.profile.verifyThreads, 2);
    assert.equal(readFileSync(join(s.dest, 'd7/sub4/f67'), 'utf8'), 'file 67\n');
    rmSync(s.dest, { recursive: true });
    const one = await unpackTarball(s.tarball, s.dest);
    assert.equal(one.profile.verifyThreads, 1);
    // The helper's thread ended for real as soon as it is started: the worker walks its share itself.
    rmSync(s.dest, { recursive: true });
    const ended = await unpackTarball(s.tarball, s.dest, { parallelVerifyMin: 100, onVerifyHelper: (h) => void h.terminate() });
    assert.equal(ended.profile.verifyThreads, 1);
    assert.equal(readFileSync(join(s.dest, 'd7/sub4/f67'), 'utf8'), 'file 67\n');
    // Or at any later moment (whichever step that lands in): never a failed or a wrong unpack.
    for (const delayMs of [10, 50, 200]) {
      rmSync(s.dest, { recursive: true });
      const later = await unpackTarball(s.tarball, s.dest, {
        parallelVerifyMin: 100, onVerifyHelper: (h) => { setTimeout(() => void h.terminate(), delayMs); },
      });
      assert.equal(later.entries, r.entries);
      assert.equal(readFileSync(join(s.dest, 'd7/sub4/f67'), 'utf8'), 'file 67\n');
    }
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

// The guarantee: an abort signalled at any moment before unpackTarball resolves makes it reject
// with ABORTED and leave nothing at dest. Each case aborts at a phase chosen by an event, not a timer.
test('abort removes dest, whichever phase it lands in', async () => {
  const files = Array.from({ length: 3000 }, (_, i) => ({ path: `d${i % 50}/f${i}`, data: `content ${i}`.repeat(20) }));
  const s = setup(tgz(files));
  const isAborted = (err: unknown) => err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CANCELLED';
  try {
    const { entries } = await unpackTarball(s.tarball, s.dest);
    rmSync(s.dest, { recursive: true });
    const already = new AbortController();
    already.abort();
    await assert.rejects(unpackTarball(s.tarball, s.dest, { signal: already.signal }), /aborted/);
    assertNothingLeft(s);
    // Right after the call: lands in the first await (the GNU tar check, the open, the mkdir).
    const atOnce = new AbortController();
    const p1 = unpackTarball(s.tarball, s.dest, { signal: atOnce.signal });
    atOnce.abort();
    await assert.rejects(p1, isAborted);
    assertNothingLeft(s);
    // At pass 1's first progress report (1,000 entries headers checked, GNU tar extracting).
    const inPass1 = new AbortController();
    await assert.rejects(unpackTarball(s.tarball, s.dest, { signal: inPass1.signal, onProgress: () => inPass1.abort() }), isAborted);
    assertNothingLeft(s);
    // At the full count, which is reported once pass 1 has accepted everything (and, if pass 1's
    // reports are due, once more just before): lands while GNU tar finishes, in pass 3 or the sync.
    const afterPass1 = new AbortController();
    await assert.rejects(unpackTarball(s.tarball, s.dest, {
      signal: afterPass1.signal, onProgress: (n) => { if (n === entries) afterPass1.abort(); },
    }), isAborted);
    assertNothingLeft(s);
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});

test('pass 3 catches a tree that differs from the headers, on one thread and split in two', async () => {
  const v = await import('../../agent/storage/unpack/verify.js');
  const { ArchiveRules } = await import('../../agent/storage/unpack/rules.js');
  // Each check runs both ways: the whole walk on one thread, and two shares (one through the string the helper thread gets).
  const verifyTree = (dest: string, tree: Map<string, import('../../agent/storage/unpack/rules.js').Node>) => {
    const one = v.verifyTree(dest, tree);
    const dirs = v.checkDirs(dest, tree);
    const shares = v.splitShares(v.childrenIndex(tree), 2);
    const two = dirs.length > 0 ? dirs : v.finish(dest, tree.size, [v.verifyDirs(dest, shares[0]!), v.verifyDirs(dest, v.decodeShare(v.encodeShare(shares[1]!)))]);
    assert.deepEqual(two.sort(), [...one].sort());
    return one;
  };
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
    rmSync(join(base, 'l'));
    symlinkSync('a', join(base, 'l'));
    // A directory of the archive that is a symlink on disk: refused before anything walks through it.
    rules.add({ path: 'b/', type: 'Directory', size: 0 });
    rules.add({ path: 'b/f', type: 'File', size: 1 });
    symlinkSync('a', join(base, 'b'));
    assert.match(verifyTree(base, rules.tree).join('\n'), /"b" was extracted as a symlink, the archive says dir/);
    rmSync(join(base, 'b'));
    mkdirSync(join(base, 'b'), { mode: 0o700 });
    writeFileSync(join(base, 'b/f'), 'y');
    assert.deepEqual(verifyTree(base, rules.tree), []);
    assert.equal(lstatSync(join(base, 'b')).mode & 0o7777, 0o755);
    rmSync(join(base, 'b/f'));
    assert.match(verifyTree(base, rules.tree).join('\n'), /4 entries were extracted, the archive's headers describe 5/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// ---- hostile archives: each refused by name, nothing written outside the staging dir ----


test('refuses backslashes and drive letters, in names and in symlink targets', async () => {
  await refused([{ path: '..\\..\\evil', data: 'x' }], /entry "\.\.\\\.\.\\evil" has a backslash in its path/);
  await refused([{ path: 'a\\b', data: 'x' }], /has a backslash in its path/);
  await refused([{ path: 'C:evil', data: 'x' }], /entry "C:evil" starts with a drive letter/);
  await refused([{ path: 'c:\\windows\\x', data: 'x' }], /has a backslash in its path|starts with a drive letter/);
  await refused([{ path: 'C:/x', data: 'x' }], /entry "C:\/x" starts with a drive letter/);
  await refused([{ path: 'l', type: '2', linkpath: '..\\..\\etc' }], /symlink "l" has a backslash in its target/);
  await refused([{ path: 'l', type: '2', linkpath: 'C:/Windows' }], /symlink "l" points to "C:\/Windows", which starts with a drive letter/);
});

test('refuses absolute paths with many slashes, and ".." hidden by "."', async () => {
  await refused([{ path: '////etc/x', data: 'evil' }], /entry "\/\/\/\/etc\/x" has an absolute path/);
  await refused([{ path: './../x', data: 'evil' }], /has "\.\." in its path/);
});

test('refuses names that collide after Unicode normalisation or case folding', async () => {
  await refused([{ path: 'straße', data: 'a' }, { path: 'strasse', data: 'b' }], /"strasse" and "straße" are the same name after Unicode normalisation or case folding/);
  await refused([{ path: 'A', data: 'a' }, { path: 'a', data: 'b' }], /"a" and "A" are the same name/);
  await refused([{ path: 'caf\u00e9', data: 'a' }, { path: 'cafe\u0301', data: 'b' }], /are the same name after Unicode normalisation/);
  // Through directories, implicit ones included: Dir/x and dir/y would share one directory on macOS.
  await refused([{ path: 'Dir/x', data: 'a' }, { path: 'dir/y', data: 'b' }], /entry "dir\/y": "dir" and "Dir" are the same name/);
  await refused([{ path: 'lib/', type: '5' }, { path: 'LIB', type: '2', linkpath: '/etc' }], /LIB/);
});

test('ArchiveRules: foldName and parsePax', async () => {
  const { foldName, parsePax } = await import('../../agent/storage/unpack/rules.js');
  assert.equal(foldName('Straße'), foldName('STRASSE'));
  assert.equal(foldName('cafe\u0301'), foldName('CAFÉ'));
  assert.notEqual(foldName('a'), foldName('b'));
  assert.deepEqual(parsePax(paxRecord('path', 'a/b') + paxRecord('GNU.sparse.name', 'x')), [{ key: 'path', value: 'a/b' }, { key: 'GNU.sparse.name', value: 'x' }]);
  assert.deepEqual(parsePax('just/a/long/name'), []);
});

test('a directory, then a symlink of the same name pointing outside, then a file through it', async () => {
  await refused([{ path: 'd/', type: '5' }, { path: 'd', type: '2', linkpath: '/etc' }, { path: 'd/passwd', data: 'evil' }],
    /symlink "d" points to the absolute path "\/etc"/);
  await refused([{ path: 'd/', type: '5' }, { path: 'd', type: '2', linkpath: '../../..' }, { path: 'd/x', data: 'evil' }],
    /entry "d" appears twice \(a dir, then a symlink\)/);
});

test('symlinks and hard links to absolute targets or through chains of links', async () => {
  await refused([{ path: 'hl', type: '1', linkpath: '/etc/passwd' }], /entry "hl" is a hard link/);
  await refused([{ path: 'a', type: '2', linkpath: 'b' }, { path: 'b', type: '2', linkpath: 'c' }, { path: 'c', type: '2', linkpath: '../..' }],
    /symlink "a" -> "b" points outside the release/);
  await refused([{ path: 'x/', type: '5' }, { path: 'x/up', type: '2', linkpath: '..' }, { path: 'y', type: '2', linkpath: 'x/up/x/up/..' }],
    /symlink "y" -> "x\/up\/x\/up\/\.\." points outside the release/);
});

test('refuses duplicates: a file twice, a dir then a file', async () => {
  await refused([{ path: 'f', data: 'first' }, { path: 'f', data: 'second' }], /entry "f" appears twice \(a file, then a file\)/);
  await refused([{ path: 'd/', type: '5' }, { path: 'd', data: 'x' }], /entry "d" appears twice \(a dir, then a file\)/);
});

test('PAX and GNU long-name records that rewrite a path are checked as the path they make', async () => {
  await refused([pax({ path: '../x' }), { path: 'harmless', data: 'evil' }], /entry "\.\.\/x" has "\.\." in its path/);
  await refused([pax({ path: '/etc/cron.d/x' }), { path: 'harmless', data: 'evil' }], /entry "\/etc\/cron\.d\/x" has an absolute path/);
  await refused([pax({ linkpath: '/etc' }), { path: 'l', type: '2', linkpath: 'ok' }], /symlink "l" points to the absolute path "\/etc"/);
  await refused([gnuLong('../../evil'), { path: 'harmless', data: 'x' }], /entry "\.\.\/\.\.\/evil" has "\.\." in its path/);
  await refused([gnuLong('/etc', 'K'), { path: 'l', type: '2', linkpath: 'ok' }], /symlink "l" points to the absolute path "\/etc"/);
  // Keywords GNU tar obeys and node-tar ignores: the two would read different archives.
  await refused([pax({ 'GNU.sparse.name': '../x', 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0' }), { path: 'a', data: 'x' }],
    /a PAX header has the keyword "GNU\.sparse\.name"/);
  await refused([pax({ size: '-1' }), { path: 'a', data: 'x' }], /a PAX header has the size "-1", which is not a plain byte count/);
  await refused([pax({ path: 'evil' }, 'g'), { path: 'a', data: 'x' }], /a global PAX header sets path for every entry/);
  await refused([pax({ hdrcharset: 'BINARY' }), { path: 'a', data: 'x' }], /keyword "hdrcharset"/);
});

test('refuses a NUL inside a name in a PAX record or a GNU long name (tar readers cut it there, others do not)', async () => {
  await refused([pax({ path: 'ok\0../../../../x' }), { path: 'harmless', data: 'evil' }], /a PAX record "path" holds a NUL byte/);
  await refused([pax({ linkpath: 'ok\0/etc' }), { path: 'l', type: '2', linkpath: 'ok' }], /a PAX record "linkpath" holds a NUL byte/);
  await refused([gnuLong('ok\0../../x'), { path: 'harmless', data: 'x' }], /a GNU long-name record holds a NUL byte inside the name/);
  await refused([gnuLong('ok\0/etc', 'K'), { path: 'l', type: '2', linkpath: 'ok' }], /a GNU long-name record holds a NUL byte/);
});

test('refuses the name of the agent\'s completion marker at the release root, as a directory or a file, in any case', async () => {
  await refused([{ path: '.slipway-release.json/', type: '5' }, { path: '.slipway-release.json/x', data: 'x' }], /uses the name "\.slipway-release\.json", which the agent keeps for itself/);
  await refused([{ path: '.slipway-release.json', data: '{}' }], /keeps for itself/);
  await refused([{ path: './.SLIPWAY-release.json', data: '{}' }], /keeps for itself/);
});

test('refuses negative, malformed and absurd size fields, bodies on links, and an entry over the size limit', async () => {
  await refused([{ path: 'neg', sizeField: base256(-1n) }], /entry "neg" has a negative, malformed or absurd size field/);
  await refused([{ path: 'junk', sizeField: Buffer.from('zzzzzzzzzzz\0') }], /entry "junk" has a negative, malformed or absurd size field/);
  await corrupt(tgz([{ path: 'huge', sizeField: base256(1n << 80n) }])); // node-tar: "parsed number outside of javascript safe integer range"
  await refused([{ path: 'huge', sizeField: base256(1n << 52n) }], /entry "huge" is 4503599627370496 bytes, over the limit/);
  await refused([{ path: 'big', sizeField: base256(5n * 1024n ** 3n) }], /entry "big" is 5368709120 bytes, over the limit of 2147483648/);
  await refused([{ path: 'a', data: 'x'.repeat(300) }], /entry "a" is 300 bytes, over the limit of 200/, { maxBytes: 200 });
  await refused([{ path: 'l', type: '2', linkpath: 'a', data: Buffer.alloc(512, 0x41) }], /entry "l" is a symlink with a body of 512 bytes/);
});

test('a malformed header (bad checksum) and an archive truncated mid-entry are corrupt', async () => {
  await corrupt(tgz([...ok, { path: 'bad', data: 'x', badChecksum: true }]));
  const whole = tarBytes([{ path: 'big', data: Buffer.alloc(100_000, 1) }]);
  await corrupt(gzipSync(whole.subarray(0, 512 + 40_000))); // a complete gzip stream of half an entry
});

test('a nested gzip stream is corrupt (node-tar would unpack it, GNU tar would not)', async () => {
  await corrupt(gzipSync(gzipSync(tarBytes(ok))));
});

test('a path 100,000 components deep is refused without trouble', async () => {
  const t0 = performance.now();
  await refused([{ path: `${'a/'.repeat(100_000)}f`, data: 'x' }], /has a path of 200001 bytes, over the limit of 1024/);
  await refused([{ path: `${'./'.repeat(100_000)}f`, data: 'x' }], /has a path of 200001 bytes/);
  assert.ok(performance.now() - t0 < 10_000);
});

test('gzip bombs are refused quickly with bounded memory', async () => {
  // 3 GiB of zeros after the end of a small archive (~3 MB of gzip): refused after ~1 MiB of extra output.
  const trailing = Buffer.concat([tgz(ok), zeroMembers(48)]);
  // A 3 GiB entry of zeros: refused at its header.
  const huge = Buffer.concat([gzipSync(tarBytes([{ path: 'zeros', size: 3 * 1024 ** 3 }]).subarray(0, 512)), zeroMembers(48)]);
  // Many entries of zeros, each under the limit, adding up over it.
  const member = (name: string) => gzipSync(Buffer.concat([header({ path: name, type: '0', size: 64 * 1024 ** 2, mode: 0o644, uid: 0 }), Buffer.alloc(64 * 1024 ** 2)]), { level: 9 });
  const many = Buffer.concat(Array.from({ length: 8 }, (_, i) => member(`z${i}`)));
  const rss0 = process.memoryUsage().rss;
  // "Quickly" is measured in CPU time, which a loaded machine does not stretch: inflating one of these 3 GiB
  // bombs in full costs about 8 s of CPU here, so the bound fails an unpack that does; the three refusals take about 2.7 s.
  const cpu0 = process.cpuUsage();
  await refused(trailing, /decompresses to more than its headers account for/);
  await refused(huge, /entry "zeros" is 3221225472 bytes, over the limit/);
  await refused(many, /more than 268435456 bytes in total/, { maxBytes: 256 * 1024 ** 2 });
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 6_000, `the refusals took ${Math.round(cpuMs)} ms of CPU`);
  assert.ok(process.memoryUsage().rss - rss0 < 400 * 1024 ** 2, `rss grew by ${Math.round((process.memoryUsage().rss - rss0) / 1024 ** 2)} MB`);
  console.log(`gzip bombs: the three refusals took ${Math.round(cpuMs)} ms of CPU`);
});

test('modes are exactly 0755/0644 and files belong to the agent', async () => {
  const s = setup(tgz([
    { path: 'x700', data: 'x', mode: 0o700 },
    { path: 'x010', data: 'x', mode: 0o010 },
    { path: 'r600', data: 'x', mode: 0o600 },
    { path: 'r000', data: 'x', mode: 0o000 },
    { path: 'r666', data: 'x', mode: 0o666, uid: 4242 },
    { path: 'd700/', type: '5', mode: 0o700 },
    { path: 'd000/', type: '5', mode: 0o000 },
    { path: 'd000/f', data: 'x', mode: 0o6755 },
  ]));
  try {
    await unpackTarball(s.tarball, s.dest);
    const mode = (p: string) => lstatSync(join(s.dest, p)).mode & 0o7777;
    assert.deepEqual(['x700', 'x010', 'r600', 'r000', 'r666', 'd700', 'd000', 'd000/f'].map(mode), [0o755, 0o755, 0o644, 0o644, 0o644, 0o755, 0o755, 0o755]);
    assert.equal(lstatSync(join(s.dest, 'r666')).uid, process.getuid?.());
  } finally {
    rmSync(s.base, { recursive: true, force: true });
  }
});
