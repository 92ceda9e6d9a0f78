// TarReader (pass 1's header reader) against archives GNU tar writes in each
// of its formats, fed in pieces of every awkward size, and against the
// ambiguous archives it must refuse where tar readers disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarReader, numericField, paxRecords, META_MAX, type HeaderInfo } from '../../agent/storage/unpack/tar-reader.js';
import { header, tarBytes, pax, gnuLong, base256, pad, type E } from '../helpers/tarball.js';

interface Read { entries: HeaderInfo[]; metas: string[]; refused: string[]; globals: object[]; corrupt?: string; ended: boolean }

/** Reads `tar` in pieces of `piece` bytes (all at once by default). */
function read(tar: Buffer, piece = tar.length): Read {
  const r: Read = { entries: [], metas: [], refused: [], globals: [], ended: false };
  const reader = new TarReader({
    entry: (h) => r.entries.push(h),
    meta: (text) => r.metas.push(text),
    global: (g) => r.globals.push(g),
    refuse: (m) => r.refused.push(m),
  });
  for (let at = 0; at < tar.length; at += piece) reader.write(tar.subarray(at, at + piece));
  reader.end();
  r.corrupt = reader.corrupt;
  r.ended = reader.ended;
  return r;
}

const names = (r: Read) => r.entries.map((e) => `${e.type} ${e.path}${e.linkpath !== undefined ? ` -> ${e.linkpath}` : ''} ${e.size}`);

test('archives GNU tar writes in the gnu, posix, ustar and v7 formats read as GNU tar lists them, in pieces of any size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tar-reader-'));
  try {
    const src = join(dir, 'src');
    const long = `${'deep-directory-name/'.repeat(6)}a-file-whose-name-is-long-too.js`; // > 100 bytes: a long name or a ustar prefix
    mkdirSync(join(src, long, '..'), { recursive: true });
    writeFileSync(join(src, long), 'x'.repeat(1000));
    writeFileSync(join(src, 'empty'), '');
    writeFileSync(join(src, 'block'), Buffer.alloc(512, 1));
    symlinkSync('deep-directory-name/deep-directory-name', join(src, 'link'));
    for (const format of ['gnu', 'posix', 'ustar', 'v7']) {
      const file = join(dir, `${format}.tar`);
      const members = format === 'v7' ? ['empty', 'block', 'link'] : ['.'];
      execFileSync('tar', ['--format', format, '--sort=name', '-cf', file, '-C', src, ...members]);
      const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
      const tar = execFileSync('cat', [file]);
      const whole = read(tar);
      assert.equal(whole.corrupt, undefined, format);
      assert.deepEqual(whole.refused, [], format);
      assert.equal(whole.ended, true, format);
      assert.deepEqual(whole.entries.map((e) => e.path), listed, format);
      const file1000 = whole.entries.find((e) => e.path.endsWith('too.js'));
      if (format !== 'v7') assert.equal(file1000?.size, 1000, format);
      assert.equal(whole.entries.find((e) => e.path.endsWith('link'))?.linkpath, 'deep-directory-name/deep-directory-name', format);
      for (const piece of [1, 7, 511, 512, 513, 4096]) assert.deepEqual(read(tar, piece), whole, `${format}, pieces of ${piece}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PAX and GNU records apply to the next entry only; a global header is reported', () => {
  const r = read(tarBytes([
    pax({ path: 'from/pax', size: '3' }), { path: 'short', size: 3, data: 'abc' },
    gnuLong('from/gnu'), { path: 'x', data: 'y' },
    gnuLong('target/of/link', 'K'), { path: 'l', type: '2', linkpath: 'ignored' },
    pax({ comment: 'hi' }, 'g'), { path: 'plain', data: '' },
  ]));
  assert.equal(r.corrupt, undefined);
  assert.deepEqual(names(r), ['File from/pax 3', 'File from/gnu 1', 'SymbolicLink l -> target/of/link 0', 'File plain 0']);
  assert.equal(r.metas.length, 4);
  assert.deepEqual(r.globals, [{}]);
});

test('types: a file named with a trailing slash is a directory; unknown types are named by their flag', () => {
  const r = read(tarBytes([{ path: 'old-dir/', type: '0' }, { path: 'odd', type: 'Z', data: 'x' }, { path: 'c', type: '7', data: 'z' }, { path: 'h', type: '1', linkpath: 'c' }]));
  assert.deepEqual(names(r), ['Directory old-dir/ 0', '"Z" odd 1', 'ContiguousFile c 1', 'Link h -> c 0']);
});

test('size fields: octal with spaces, base-256, and NaN for negative or malformed ones (nothing is read after them)', () => {
  const field = (s: string) => Buffer.from(s.padEnd(12, '\0'), 'latin1');
  assert.equal(numericField(field('  0000017 '), 0, 12), 15);
  assert.equal(numericField(base256(5n * 1024n ** 3n), 0, 12), 5 * 1024 ** 3);
  assert.equal(numericField(base256(1n << 80n), 0, 12), Infinity);
  assert.ok(Number.isNaN(numericField(base256(-1n), 0, 12)));
  assert.ok(Number.isNaN(numericField(field('12x4'), 0, 12)));
  assert.ok(Number.isNaN(numericField(field(''), 0, 12)));
  const r = read(tarBytes([{ path: 'neg', sizeField: base256(-1n) }, { path: 'never-read', data: 'x' }]));
  assert.equal(r.entries.length, 1);
  assert.ok(Number.isNaN(r.entries[0]!.size));
  assert.match(read(tarBytes([{ path: 'huge', sizeField: base256(1n << 80n) }])).corrupt ?? '', /size field beyond 2\^53/);
});

test('corrupt: a bad checksum, a truncated entry, a lone zero block with headers after it, a malformed PAX record, no entries', () => {
  assert.match(read(tarBytes([{ path: 'a', data: 'x', badChecksum: true }])).corrupt ?? '', /wrong checksum/);
  const t = tarBytes([{ path: 'big', data: Buffer.alloc(5000, 1) }]);
  assert.match(read(t.subarray(0, 2048)).corrupt ?? '', /is truncated/);
  assert.match(read(t.subarray(0, 700)).corrupt ?? '', /is truncated/);
  const lone = Buffer.concat([tarBytes([{ path: 'a', data: 'x' }]).subarray(0, 1024), Buffer.alloc(512), tarBytes([{ path: 'b', data: 'y' }])]);
  assert.match(read(lone).corrupt ?? '', /lone zero block at byte 1024/);
  const badPax = Buffer.concat([header({ path: 'PaxHeader/x', type: 'x', size: 10, mode: 0o644, uid: 0 }), pad(Buffer.from('9 path=a\n')), tarBytes([{ path: 'a', data: 'x' }])]);
  assert.match(read(badPax).corrupt ?? '', /PAX header \(type x\) .* is malformed/);
  assert.match(read(Buffer.alloc(1024)).corrupt ?? '', /holds no entries/);
  // Without end blocks an archive is read to its last whole entry.
  const noEnd = tarBytes([{ path: 'a', data: 'x' }]).subarray(0, 1024);
  assert.equal(read(noEnd).corrupt, undefined);
});

test('refused where tar readers disagree: a GNU long name with a PAX path, a ustar prefix under another version, an oversized record', () => {
  assert.match(read(tarBytes([gnuLong('gnu/name'), pax({ path: 'pax/name' }), { path: 'x', data: '' }])).refused.join('\n'), /named both by a GNU long-name record and a PAX path/);
  const h = header({ path: 'name', type: '0', size: 0, mode: 0o644, uid: 0 });
  h.write('pre', 345, 'latin1');
  h.write('  ', 263, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  const r = read(Buffer.concat([h, Buffer.alloc(1024)]));
  assert.match(r.refused.join('\n'), /has a ustar prefix but the version " {2}"/);
  assert.deepEqual(r.entries.map((e) => e.path), ['pre/name']);
  const big: E = { path: 'L', type: 'L', data: Buffer.alloc(META_MAX + 1, 0x61) };
  assert.match(read(tarBytes([big, { path: 'x', data: '' }])).refused.join('\n'), /of 1048577 bytes, over the limit of 1048576/);
});

test('paxRecords: well-formed records only', () => {
  assert.deepEqual(paxRecords(Buffer.from('12 path=a/b\n')), [{ key: 'path', value: 'a/b' }]);
  for (const bad of ['12 path=a/b', '11 path=a/b\n', 'x path=a\n', '6 =ab\n', '9 path-a\n']) assert.equal(paxRecords(Buffer.from(bad)), undefined, bad);
});
