// Pass 3's early part (agent/storage/unpack/early-verify.ts) against a real
// process whose writes stand in for GNU tar's (its /proc/PID/io is read as
// GNU tar's is), then the walk after it; and GNU tar itself, run as the
// unpacker runs it, refusing to replace a file that exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarlyVerifier, WRITTEN_MARGIN, bytesWritten } from '../../agent/storage/unpack/early-verify.js';
import { ArchiveRules } from '../../agent/storage/unpack/rules.js';
import { checkDirs, childrenIndex, finish, verifyDirs } from '../../agent/storage/unpack/verify.js';
import { extractWithGnuTar } from '../../agent/storage/unpack/gnu-tar.js';
import { tarBytes } from '../helpers/tarball.js';

/** A process that writes files when told ("PATH SIZE MODE" on its stdin), answering "ok" once each is written. */
function writer(dir: string) {
  const child = spawn(process.execPath, ['-e', `
    const { writeFileSync, chmodSync } = require('node:fs');
    require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
      const [path, size, mode] = l.split(' ');
      writeFileSync(path, Buffer.alloc(Number(size), 120));
      chmodSync(path, parseInt(mode, 8));
      process.stdout.write('ok\\n');
    });`], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: child.stdout });
  const waiting: Array<() => void> = [];
  answers.on('line', () => waiting.shift()?.());
  return {
    pid: child.pid!,
    write: (path: string, size: number, mode = 0o644) => new Promise<void>((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${path} ${size} ${mode.toString(8)}\n`);
    }),
    end: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.stdin.end(); }),
  };
}

test('early verification looks at a file only once more than the margin was written after it; the walk after only sees those listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-early-'));
  const w = writer(dir);
  try {
    const big = 2 * WRITTEN_MARGIN;
    const rules = new ArchiveRules();
    for (const [path, size] of [['a', big], ['b', big], ['c', 1], ['d', big], ['e', big]] as const) rules.add({ path, type: 'File', size });
    assert.deepEqual(rules.files.map(([p, n]) => [p, n.end]), [['a', big], ['b', 2 * big], ['c', 2 * big + 1], ['d', 3 * big + 1], ['e', 4 * big + 1]]);
    const early = new EarlyVerifier(dir, w.pid, rules.files);
    const at = (path: string) => rules.files.find(([p]) => p === path)![1];

    assert.equal(early.step(1000), 0, 'nothing written yet');
    await w.write('a', big);
    assert.equal(early.step(1000), 0, '"a" is written, but nothing after it yet');
    await w.write('b', big);
    assert.ok(bytesWritten(w.pid)! >= 2 * big);
    assert.equal(early.step(1000), 1);
    assert.equal(at('a').verified, true);
    assert.equal(at('b').verified, undefined, '"b" is where the writer is');
    // c has a byte too many, d a mode the walk has to set: both left to the walk.
    await w.write('c', 2);
    await w.write('d', big, 0o600);
    await w.write('e', big);
    assert.equal(early.step(1000), 3);
    assert.deepEqual(rules.files.map(([p, n]) => [p, n.verified === true]), [['a', true], ['b', true], ['c', false], ['d', false], ['e', false]]);
    assert.equal(early.pending, true, '"e" is not known to be finished');
    await w.end();
    assert.equal(early.step(1000), 0);
    assert.equal(early.pending, false, 'the writer has exited: its progress can no longer be read');
    assert.equal(early.verified, 2);

    // The walk: what was found early is counted as such; the rest is checked as always.
    assert.deepEqual(checkDirs(dir, rules.tree), []);
    const share = verifyDirs(dir, childrenIndex(rules.tree));
    assert.equal(share.early, 2);
    assert.deepEqual(finish(dir, rules.tree.size, [share]), ['"c" has 2 bytes, the archive says 1']);
    assert.equal(lstatSync(join(dir, 'd')).mode & 0o7777, 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GNU tar, as the unpacker runs it, never replaces or rewrites a file that exists, and leaves the release root as it is', async () => {
  const base = mkdtempSync(join(tmpdir(), 'slipway-keep-'));
  const dest = join(base, 'release');
  try {
    // A second file or a symlink at the same path fails the extraction; a directory there is skipped. Either way "f" stays as it was.
    for (const [second, fails] of [[{ path: 'f', data: 'two' }, true], [{ path: 'f', type: '2', linkpath: 'g' }, true], [{ path: 'f/', type: '5' }, false]] as const) {
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { mode: 0o700 });
      chmodSync(dest, 0o700);
      const run = extractWithGnuTar(dest);
      run.child.stdin!.end(tarBytes([{ path: './', type: '5', mode: 0o777 }, { path: 'f', data: 'one' }, { path: 'sub/', type: '5' }, second, { path: 'sub/', type: '5', mode: 0o777 }]));
      const outcome = await run.done.then(() => undefined, (err: Error & { code?: string }) => err);
      if (fails) {
        assert.equal(outcome?.code, 'SLIPWAY_ERR_CORRUPT_ARCHIVE', `second entry ${JSON.stringify(second)}`);
        assert.match(outcome.message, /File exists/);
      }
      assert.ok(lstatSync(join(dest, 'f')).isFile());
      assert.equal(readFileSync(join(dest, 'f'), 'utf8'), 'one');
      assert.equal(lstatSync(dest).mode & 0o7777, 0o700);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
