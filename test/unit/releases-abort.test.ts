// Releases.ensureUnpacked with a caller's AbortSignal: the abort ends that
// caller's wait; the unpack, shared by every caller of the same release,
// stops (leaving nothing) only once no caller waits for it any more.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { Releases } from '../../agent/storage/releases.js';
import { AppPaths } from '../../agent/paths.js';
import { DEFAULT_LIMITS } from '../../agent/storage/unpack/rules.js';
import { tgz } from '../helpers/tarball.js';
import type { ReleaseStore, StoredMeta } from '../../agent/storage/store.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A stored release of hello 1.0.0 whose store lookup waits until open() (the window in which callers give up). */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-releases-abort-'));
  dirs.push(dir);
  const manifest = {
    app: 'hello', version: '1.0.0', git: { commit: 'a'.repeat(40), tag: '1.0.0' }, source_date: '2030-01-01T00:00:00Z',
    run: { command: ['node', 'server.js'] },
  };
  const bytes = tgz([{ path: 'slipway.json', data: JSON.stringify(manifest) }, { path: 'server.js', data: 'console.log(1)\n' }]);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const p = new AppPaths(dir, 'hello');
  mkdirSync(p.store, { recursive: true });
  writeFileSync(p.tarball(sha256), bytes);
  const meta: StoredMeta = { app: 'hello', version: '1.0.0', sha256, size: bytes.length, stored_at: '2030-01-01T00:00:00Z' };
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  let asked!: () => void;
  const lookedUp = new Promise<void>((r) => { asked = r; });
  const store = { verifier: undefined, lookup: async () => { asked(); await opened; return meta; } } as unknown as ReleaseStore;
  const logged: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => { logged.push((JSON.parse(line) as { msg: string }).msg); } });
  const releases = new Releases(dir, store, DEFAULT_LIMITS, log);
  return { releases, sha256, open, lookedUp, releasesDir: p.releases, unpacks: () => logged.filter((m) => m === 'release unpacked').length };
}

test('a caller that gives up gets ABORTED; another caller of the same unpack still gets the release', async () => {
  const s = setup();
  const ac = new AbortController();
  const quitter = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256, undefined, ac.signal);
  const stayer = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256, undefined, new AbortController().signal);
  await s.lookedUp;
  ac.abort();
  await assert.rejects(quitter, /unpacking was aborted/);
  s.open();
  const r = await stayer;
  assert.equal(r.manifest.version, '1.0.0');
  assert.equal(s.unpacks(), 1);
  assert.deepEqual(readdirSync(s.releasesDir).filter((n) => !n.startsWith('.')), [`1.0.0-${s.sha256.slice(0, 12)}`]);
});

test('when every caller gives up, the unpack stops and leaves nothing; a later caller unpacks afresh', async () => {
  const s = setup();
  const a = new AbortController();
  const b = new AbortController();
  const first = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256, undefined, a.signal);
  const second = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256, undefined, b.signal);
  await s.lookedUp;
  a.abort();
  b.abort();
  await assert.rejects(first, /unpacking was aborted/);
  await assert.rejects(second, /unpacking was aborted/);
  const later = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256);
  s.open();
  assert.equal((await later).version, '1.0.0');
  assert.deepEqual(readdirSync(s.releasesDir), [`1.0.0-${s.sha256.slice(0, 12)}`], 'the aborted unpack left no temp directory');
  assert.equal(s.unpacks(), 1, 'only the later caller\'s unpack ran to its end');
});

test('a caller without a signal keeps the unpack going whoever else gives up', async () => {
  const s = setup();
  const ac = new AbortController();
  const plain = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256);
  const quitter = s.releases.ensureUnpacked('hello', '1.0.0', s.sha256, undefined, ac.signal);
  await s.lookedUp;
  ac.abort();
  await assert.rejects(quitter, /unpacking was aborted/);
  s.open();
  assert.equal((await plain).version, '1.0.0');
});
