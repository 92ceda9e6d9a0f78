// The CLI's code cache (coordinator/code-cache.ts): where it lives, when it
// is refused, and that a second run takes its code from it. Real processes:
// the cache is written at exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync, statSync, chmodSync, mkdirSync, utimesSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeCacheFor } from '../../coordinator/code-cache.js';

const MODULE = new URL('../../coordinator/code-cache.ts', import.meta.url).href;

/** A CommonJS "bundle" that exits with the code in $EXIT_CODE after doing a little work. */
function bundleIn(dir: string): string {
  const file = join(dir, 'app.cjs');
  writeFileSync(file, '#!/usr/bin/env node\nconst f = (n) => n < 2 ? n : f(n - 1) + f(n - 2);\n' +
    'console.log(JSON.stringify({ fib: f(15), dirname: __dirname === require("node:path").dirname(__filename) }));\n' +
    'process.exitCode = Number(process.env.EXIT_CODE ?? 0);\n');
  return file;
}

/** Runs the bundle through runBundle in a child (tsx), as the launcher does; prints whether the cache was used. */
function run(bundle: string, cacheDir: string, exitCode = 0) {
  const script = `import { codeCacheFor, runBundle } from ${JSON.stringify(MODULE)};\n` +
    `const r = runBundle(${JSON.stringify(bundle)}, codeCacheFor(${JSON.stringify(bundle)}, 'status'));\n` +
    'console.log(JSON.stringify(r));\n';
  const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, SLIPWAY_CACHE_DIR: cacheDir, EXIT_CODE: String(exitCode) }, encoding: 'utf8',
  });
  const lines = p.stdout.trim().split('\n');
  return { status: p.status, out: JSON.parse(lines[0]!) as { fib: number; dirname: boolean }, cache: JSON.parse(lines[1]!) as { fromCache: boolean }, stderr: p.stderr };
}

test('code cache: written after a clean run, used by the next, one file per bundle and command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cc-'));
  const bundle = bundleIn(dir);
  const cacheDir = join(dir, 'cache');
  const first = run(bundle, cacheDir);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(first.out, { fib: 610, dirname: true });
  assert.equal(first.cache.fromCache, false);
  const files = readdirSync(cacheDir);
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^cli-[0-9a-f]{16}-status\.v8$/);
  assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(cacheDir, files[0]!)).mode & 0o777, 0o600);
  const second = run(bundle, cacheDir);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.cache.fromCache, true);
  assert.deepEqual(second.out, first.out);
});

test('code cache: a failed run writes nothing; a changed bundle gets a new file and an old unused one goes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cc-'));
  const bundle = bundleIn(dir);
  const cacheDir = join(dir, 'cache');
  assert.equal(run(bundle, cacheDir, 3).status, 3);
  assert.deepEqual(readdirSync(cacheDir), []);
  assert.equal(run(bundle, cacheDir).status, 0);
  const before = readdirSync(cacheDir);
  // Not used for two days; then a new install: other bytes, other mtime. Times are taken from
  // the file system's clock (the file's own mtime), which the child process compares with.
  const old = new Date(statSync(join(cacheDir, before[0]!)).mtimeMs - 2 * 86_400_000);
  utimesSync(join(cacheDir, before[0]!), old, old);
  // Another Node setup's cache, used today: kept.
  const recent = 'cli-0123456789abcdef-status.v8';
  writeFileSync(join(cacheDir, recent), 'x');
  writeFileSync(bundle, `${'// v2\n'}${execFileSync('cat', [bundle], { encoding: 'utf8' }).replace(/^#!.*\n/, '')}`);
  const bundleMtime = statSync(bundle).mtimeMs;
  utimesSync(bundle, new Date(bundleMtime), new Date(bundleMtime + 5000));
  const again = run(bundle, cacheDir);
  assert.equal(again.status, 0);
  assert.equal(again.cache.fromCache, false);
  const after = readdirSync(cacheDir).filter((f) => f !== recent);
  assert.equal(after.length, 1);
  assert.notEqual(after[0], before[0]);
  assert.ok(readdirSync(cacheDir).includes(recent));
});

test('code cache: off with SLIPWAY_CODE_CACHE=0, with source maps, and in a directory others may write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cc-'));
  const bundle = bundleIn(dir);
  assert.equal(codeCacheFor(bundle, 'status', { SLIPWAY_CODE_CACHE: '0', SLIPWAY_CACHE_DIR: join(dir, 'c1') }).file, undefined);
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  assert.equal(codeCacheFor(bundle, 'status', { SLIPWAY_CACHE_DIR: shared }).file, undefined);
  const own = codeCacheFor(bundle, 'status', { SLIPWAY_CACHE_DIR: join(dir, 'own') });
  assert.match(own.file ?? '', /cli-[0-9a-f]{16}-status\.v8$/);
  // Odd command words do not make odd file names.
  assert.match(codeCacheFor(bundle, '../../etc', { SLIPWAY_CACHE_DIR: join(dir, 'own') }).file ?? '', /-other\.v8$/);
  // Stack traces mapped to the sources need the bundle loaded by require().
  const maps = codeCacheFor(bundle, 'status', { NODE_OPTIONS: '--enable-source-maps', SLIPWAY_CACHE_DIR: join(dir, 'own') });
  assert.equal(maps.file, undefined);
  assert.equal(maps.require, true);
  // XDG_CACHE_HOME is used when SLIPWAY_CACHE_DIR is not set.
  assert.equal(codeCacheFor(bundle, 'ping', { XDG_CACHE_HOME: join(dir, 'xdg') }).file?.startsWith(join(dir, 'xdg', 'slipway')), true);
});
