// TarReader against GNU tar on mutated archives: header fields rewritten
// with values chosen to confuse a reader (prefix, magic, version, typeflag,
// size, long-name and PAX records), the checksum recomputed so that the
// header still counts as a header. Whenever our reader reads an archive to
// its end without calling it corrupt and with only types the rules could
// accept, GNU tar must list exactly the same names, in the same order. The
// mutations come from a seeded generator: the same cases every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TarReader, type HeaderInfo } from '../../agent/storage/unpack/tar-reader.js';
import { tarBytes, pax, gnuLong, type E } from '../helpers/tarball.js';
import { rng } from '../helpers/chaos/plan.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\ufffd]/;
const ACCEPTABLE = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

function ours(tar: Buffer): { names: string[]; ok: boolean } {
  const entries: HeaderInfo[] = [];
  let refused = false;
  const reader = new TarReader({
    entry: (h) => entries.push(h),
    meta: (text) => { if (text.replace(/\0+$/, '').includes('\0') && !text.includes('=')) refused = true; },
    // As the rules do: a global header may not set what every later entry is.
    global: (g) => { if (g.path !== undefined || g.linkpath !== undefined || g.size !== undefined) refused = true; },
    refuse: () => { refused = true; },
  });
  reader.write(tar);
  reader.end();
  // Only what the rules could accept: known types, sizes, and no body on anything but a file.
  const ok = reader.corrupt === undefined && !refused &&
    entries.every((e) => ACCEPTABLE.has(e.type) && Number.isSafeInteger(e.size) && (e.size === 0 || e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile') &&
      !CONTROL.test(e.path) && !CONTROL.test(e.linkpath ?? '')); // the rules refuse control characters (and a listing could not show them)
  return { names: entries.map((e) => e.path), ok };
}

function gnu(tar: Buffer): { names: string[]; ok: boolean } {
  const r = spawnSync('tar', ['-tf', '-', '--quoting-style=literal', '--warning=no-unknown-keyword'], { input: tar, encoding: 'utf8' });
  // Warnings (a lone zero block at the very end) are not a different reading: the names are compared.
  return { names: r.stdout.split('\n').filter((l) => l !== ''), ok: r.status === 0 };
}

/** Rewrites a field of the header at `at` and recomputes its checksum. */
function rewrite(tar: Buffer, at: number, off: number, len: number, value: Buffer): void {
  tar.fill(0, at + off, at + off + len);
  value.copy(tar, at + off, 0, Math.min(len, value.length));
  tar.fill(' ', at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tar[i]!;
  tar.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 8, 'ascii');
}

/** The offsets of the headers in a tar we built (every block that starts an entry or a record). */
function headerOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length;) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    out.push(at);
    const size = parseInt(tar.toString('latin1', at + 124, at + 136).replace(/\0.*$/, '').trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const FIELDS: { off: number; len: number; values: (string | Buffer)[] }[] = [
  { off: 0, len: 100, values: ['a', 'dir/', 'x/y/z.js', 'n'.repeat(100), './lead', 'two//slashes', ''] },
  { off: 345, len: 155, values: ['', 'pre', 'deep/pre', 'p'.repeat(155)] },
  { off: 257, len: 6, values: ['ustar\0', 'ustar ', 'ustar', 'xxxxxx', Buffer.alloc(6)] },
  { off: 263, len: 2, values: ['00', '  ', ' \0', Buffer.alloc(2)] },
  { off: 156, len: 1, values: ['0', '\0', '5', '2', '7', 'x', 'L', 'K', 'g'] },
  { off: 124, len: 12, values: ['00000000000', '00000000001', '00000001000', '   17 ', '0000000000\0\0'] },
  { off: 157, len: 100, values: ['', 'target', 'l'.repeat(100)] },
];

function base(): Buffer {
  const entries: E[] = [
    { path: 'app/', type: '5' },
    { path: 'app/index.js', data: 'console.log(1)\n' },
    gnuLong(`long/${'g'.repeat(120)}`), { path: 'short-for-long', data: 'g' },
    pax({ path: `pax/${'p'.repeat(120)}` }), { path: 'short-for-pax', data: 'p'.repeat(700) },
    { path: 'link', type: '2', linkpath: 'app' },
    { path: 'empty', data: '' },
  ];
  return tarBytes(entries);
}

test('whenever TarReader accepts a mutated archive, GNU tar lists the same names in the same order', () => {
  const random = rng(Number(process.env.SEED ?? 20261202));
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const original = base();
  const offsets = headerOffsets(original);
  assert.deepEqual(gnu(original).names, ours(original).names, 'the unmutated archive');
  let compared = 0;
  const disagreements: string[] = [];
  // MUTANTS and SEED explore further by hand (12,000 mutants over seeds 1-4: no disagreement).
  const mutants = Number(process.env.MUTANTS ?? 400);
  for (let i = 0; i < mutants; i++) {
    const tar = Buffer.from(original);
    const steps: string[] = [];
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const at = pick(offsets);
      const f = pick(FIELDS);
      const v = pick(f.values);
      rewrite(tar, at, f.off, f.len, Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'));
      steps.push(`header@${at} field@${f.off}=${JSON.stringify(Buffer.isBuffer(v) ? v.toString('latin1') : v)}`);
    }
    const a = ours(tar);
    if (!a.ok) continue;
    const b = gnu(tar);
    compared++;
    if (!b.ok || JSON.stringify(a.names) !== JSON.stringify(b.names)) {
      disagreements.push(`case ${i} (${steps.join(', ')}): ours ${JSON.stringify(a.names)}, GNU tar ${b.ok ? JSON.stringify(b.names) : 'refused it'}`);
    }
  }
  assert.deepEqual(disagreements.slice(0, 5), []);
  assert.ok(compared >= mutants / 8, `only ${compared} of ${mutants} mutants were accepted by the reader: the test would say little`);
  console.log(`${compared} of ${mutants} mutants accepted by the reader and compared with GNU tar's listing`);
});
