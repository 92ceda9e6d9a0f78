// Releases.ensureUnpacked on a file system that runs out of inodes one step
// further each time: whatever step fails (the unpack, or after the rename
// into releases/: the completion marker's write), nothing of the release is
// left in releases/, and once there is room it unpacks. On a real tmpfs with
// few inodes (needs root, as test/helpers/small-fs.ts; skipped elsewhere).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { Releases } from '../../agent/storage/releases.js';
import { AppPaths } from '../../agent/paths.js';
import { DEFAULT_LIMITS } from '../../agent/storage/unpack/rules.js';
import { tgz } from '../helpers/tarball.js';
import { smallFsUnavailable } from '../helpers/small-fs.js';
import type { ReleaseStore, StoredMeta } from '../../agent/storage/store.js';

const skip = smallFsUnavailable();
let dir: string;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'slipway-inodes-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,nr_inodes=64,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
});

after(() => {
  if (skip) return;
  execFileSync('umount', [dir], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
});

test('a failure at any step of an unpack, before or after the rename into releases/, leaves no release directory', { skip }, async () => {
  const manifest = {
    app: 'hello', version: '1.0.0', git: { commit: 'a'.repeat(40), tag: '1.0.0' }, source_date: '2030-01-01T00:00:00Z',
    run: { command: ['node', 'server.js'] },
  };
  const bytes = tgz([{ path: 'slipway.json', data: JSON.stringify(manifest) }, { path: 'server.js', data: 'console.log(1)\n' }]);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const p = new AppPaths(dir, 'hello');
  mkdirSync(p.store, { recursive: true });
  mkdirSync(p.releases, { recursive: true });
  writeFileSync(p.tarball(sha256), bytes);
  const meta: StoredMeta = { app: 'hello', version: '1.0.0', sha256, size: bytes.length, stored_at: '2030-01-01T00:00:00Z' };
  const store = { verifier: undefined, lookup: async () => meta } as unknown as ReleaseStore;
  const logged: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => { logged.push((JSON.parse(line) as { msg: string }).msg); } });
  const releases = new Releases(dir, store, DEFAULT_LIMITS, log);
  // Every free inode taken by an empty file; then one given back per attempt.
  const fillers = join(dir, 'fill');
  mkdirSync(fillers);
  let n = 0;
  try {
    for (;;) writeFileSync(join(fillers, String(n++)), '');
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    n--;
  }
  const failures: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    rmSync(join(fillers, String(--n)));
    try {
      const r = await releases.ensureUnpacked('hello', '1.0.0', sha256);
      assert.equal(r.manifest.version, '1.0.0');
      break;
    } catch (err) {
      failures.push((err as Error).message);
      assert.deepEqual(readdirSync(p.releases), [], `after the failure "${(err as Error).message}", releases/ holds nothing`);
    }
  }
  assert.ok(logged.includes('release unpacked'), `it unpacked once there was room (failures: ${failures.join(' | ')})`);
  assert.ok(logged.includes('release directory removed: unpacking failed after it got its name'), `one attempt failed after the rename (failures: ${failures.join(' | ')})`);
  assert.deepEqual(readdirSync(p.releases), [`1.0.0-${sha256.slice(0, 12)}`]);
});
