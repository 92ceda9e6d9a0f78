// Hostile tarballs through a REAL agent: each archive is
// built here byte by byte, uploaded and activated with the real gRPC client.
// For each: the activation is refused with INVALID_ARGUMENT naming the
// problem, nothing appears outside the unpacker's staging directory (a
// canary dir beside the state dir, the apps dir, releases/), the agent stays
// up and answers the next request, within a bound on time and on the
// agent's memory (VmRSS). Setuid/setgid bits are not refused but dropped
// (modes become exactly 0755/0644, owner the agent): test/unit/unpack.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { mkdirSync, writeFileSync, readdirSync, lstatSync, readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tempDir, cleanup, waitFor } from '../helpers/env.js';
import { header, tarBytes, tgz, pax, gnuLong, base256, zeroMembers, type E } from '../helpers/tarball.js';
import { AgentConnection, type HostError } from '../../coordinator/client.js';
import { LocalAgent, killAppsUnder, supervisorPid } from '../../scripts/local-fleet.js';

const APP = 'hostile';
const TIME_BOUND_MS = 20_000;
const ENTRY_LIMIT = 20_000;
const RSS_BOUND = 200 * 1024 ** 2;

let dir: string;
let agent: LocalAgent;
let conn: AgentConnection;
let canary: string;
let version = 0;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  dir = tempDir('hostile');
  // The entry limit is lowered from its default (200,000) so that the archive over it stays quick to make and scan on a busy machine; the check is the same.
  // A refused tarball records nothing; the app's state.json is first written by a reconcile, here every second (the default is every minute).
  agent = new LocalAgent({ dir: join(dir, 'agent'), name: 'hostile-1', appBind: '127.0.0.1', extraConfig: `limits:\n  entries: ${ENTRY_LIMIT}\nreconcile_schedule: '* * * * * *'\n` });
  // Beside the state dir: a tar escape with "../" from the staging dir would land around here.
  canary = join(dir, 'agent', 'canary');
  mkdirSync(join(canary, 'etc'), { recursive: true });
  writeFileSync(join(canary, 'etc', 'passwd'), 'canary\n');
  mkdirSync(join(dir, 'uploads'));
  await agent.start();
  conn = new AgentConnection(agent.address, { insecure: true }, 10_000);
  // First use of the app makes its dirs, state and supervisor (some of it a moment later): settle that before any snapshot.
  const warm = tgz([{ path: 'x', type: '6' }]);
  const file = join(dir, 'uploads', 'warm-up.tar.gz');
  writeFileSync(file, warm);
  await conn.upload(file, { app: APP, version: '0.0.1', sha256: sha(warm), size: warm.length });
  const warmed = await conn.activate({ app: APP, version: '0.0.1', sha256: sha(warm) }, () => undefined, TIME_BOUND_MS).then((e) => `${e?.event}: ${e?.message}`, (err: Error) => err.message);
  const state = join(agent.stateDir, 'apps', APP, 'state.json');
  await waitFor(() => existsSync(state) && supervisorPid(agent.stateDir) !== undefined,
    () => `the app's first-use state to settle (state.json ${existsSync(state) ? 'written' : 'missing'}, supervising process pid ${supervisorPid(agent.stateDir) ?? 'missing'}; the warm-up activation: ${warmed})`);
});

after(async () => {
  conn.close();
  await agent.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  cleanup(dir);
});

/** Every path under `root` with its type and size; the store (uploads land there) is left out. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const rel = relative(root, full);
      if (rel === 'uploads' || /(^|\/)store$/.test(rel)) continue;
      const st = lstatSync(full);
      out.push(`${rel} ${st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : `${st.mode & 0o7777}:${st.size}`}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out.sort();
}

/**
 * What the agent makes for any upload and activation attempt (the app's dir
 * and state, its empty releases/ dir, the app supervisor it starts on first
 * use, and the pid file of that supervisor's socket holder, which it writes
 * a moment later): not content of the archive.
 * releases/ itself is compared entry by entry.
 */
const bookkeeping = (line: string) => line === `agent/state/apps/${APP} dir` || line === `agent/state/apps/${APP}/releases dir` ||
  line.startsWith(`agent/state/apps/${APP}/state.json `) || line.startsWith(`agent/state/apps/${APP}/.tmp-state.json-`) || line.startsWith('agent/state/supervisor.log ') || /^agent\/state\/run\/(supervisor\.(pid|sock)|holder\.pid) /.test(line);

function rss(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${agent.child!.pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS of the agent');
  return Number(m[1]) * 1024;
}

async function refusedByAgent(archive: Buffer, expect: RegExp): Promise<void> {
  const v = `6.6.${version++}`;
  const file = join(dir, 'uploads', `${v}.tar.gz`);
  writeFileSync(file, archive);
  const before = snapshot(dir).filter((l) => !bookkeeping(l));
  const releases = join(agent.stateDir, 'apps', APP, 'releases');
  const releasesBefore = existsSync(releases) ? readdirSync(releases) : [];
  const rss0 = rss();
  const t0 = Date.now();
  await conn.upload(file, { app: APP, version: v, sha256: sha(archive), size: archive.length });
  await assert.rejects(conn.activate({ app: APP, version: v, sha256: sha(archive) }, () => undefined, TIME_BOUND_MS), (err: HostError) => {
    assert.equal(err.status, 3, `INVALID_ARGUMENT expected: ${err.message}`);
    assert.match(err.code, /^SLIPWAY_ERR_(UNSAFE|CORRUPT)_ARCHIVE$/);
    assert.match(err.message, /release tarball (refused|is corrupt)/);
    assert.match(err.message, expect);
    return true;
  });
  const ms = Date.now() - t0;
  assert.ok(ms < TIME_BOUND_MS, `took ${ms} ms`);
  const grew = rss() - rss0;
  assert.ok(grew < RSS_BOUND, `agent RSS grew by ${Math.round(grew / 1024 ** 2)} MB`);
  // Nothing written outside the staging directory (which is gone again).
  assert.deepEqual(snapshot(dir).filter((l) => !bookkeeping(l)), before);
  assert.deepEqual(readdirSync(canary), ['etc']);
  assert.equal(readFileSync(join(canary, 'etc', 'passwd'), 'utf8'), 'canary\n');
  assert.deepEqual(existsSync(releases) ? readdirSync(releases) : [], releasesBefore);
  // Still up, and answering.
  assert.equal(agent.child!.exitCode, null);
  const st = await conn.status();
  assert.ok(Array.isArray(st.apps));
}

const ok: E[] = [{ path: 'slipway.json', data: '{}' }, { path: 'app/', type: '5' }, { path: 'app/index.js', data: 'ok' }];
/** GNU tar writes this name with -P: the canary's file, from the staging dir (state/apps/APP/releases/.tmp…). */
const ESCAPE = '../../../../canary/etc/passwd';

const cases: [string, () => Buffer, RegExp][] = [
  ['absolute paths', () => tgz([...ok, { path: '/etc/x', data: 'evil' }]), /entry "\/etc\/x" has an absolute path/],
  ['////etc/x', () => tgz([...ok, { path: '////etc/x', data: 'evil' }]), /entry "\/\/\/\/etc\/x" has an absolute path/],
  ['.. traversal', () => tgz([...ok, { path: ESCAPE, data: 'evil' }]), /has "\.\." in its path/],
  ['.. with backslashes', () => tgz([...ok, { path: '..\\..\\..\\..\\canary\\etc\\passwd', data: 'evil' }]), /has a backslash in its path/],
  ['C: prefixes', () => tgz([...ok, { path: 'C:\\Windows\\evil', data: 'evil' }]), /backslash|drive letter/],
  ['c: prefix with ..', () => tgz([...ok, { path: 'c:../x', data: 'evil' }]), /starts with a drive letter/],
  ['a dir, then a symlink of the same name pointing outside, then a file through it',
    () => tgz([...ok, { path: 'd/', type: '5' }, { path: 'd', type: '2', linkpath: '../../../../canary/etc' }, { path: 'd/passwd', data: 'evil' }]),
    /entry "d" appears twice \(a dir, then a symlink\)/],
  ['names colliding after case folding (ß/ss)', () => tgz([...ok, { path: 'straße', data: 'a' }, { path: 'STRASSE', data: 'b' }]),
    /"STRASSE" and "straße" are the same name after Unicode normalisation or case folding/],
  ['names colliding after Unicode normalisation', () => tgz([...ok, { path: 'caf\u00e9', data: 'a' }, { path: 'cafe\u0301', data: 'b' }]),
    /are the same name after Unicode normalisation or case folding/],
  ['a symlink to an absolute target', () => tgz([...ok, { path: 'etc', type: '2', linkpath: '/etc' }]), /symlink "etc" points to the absolute path "\/etc"/],
  ['a hard link to an absolute target', () => tgz([...ok, { path: 'pw', type: '1', linkpath: '/etc/passwd' }]), /entry "pw" is a hard link/],
  ['a chain of symlinks out of the release',
    () => tgz([...ok, { path: 'a', type: '2', linkpath: 'b' }, { path: 'b', type: '2', linkpath: 'c' }, { path: 'c', type: '2', linkpath: '../../../..' }]),
    /symlink "a" -> "b" points outside the release/],
  ['a path 100,000 components deep', () => tgz([...ok, { path: `${'a/'.repeat(100_000)}f`, data: 'x' }]), /has a path of 200001 bytes, over the limit of 1024/],
  ['more entries than the limit', () => tgz(Array.from({ length: ENTRY_LIMIT + 1 }, (_, i) => ({ path: `f${i}` }))), new RegExp(`more than ${ENTRY_LIMIT} entries`)],
  ['a gzip bomb (3 GiB of zeros after a small archive, 3 MB)', () => Buffer.concat([tgz(ok), zeroMembers(48)]), /decompresses to more than its headers account for/],
  ['an entry larger than the size limit (3 GiB of zeros, 3 MB)',
    () => Buffer.concat([gzipSync(header({ path: 'zeros', type: '0', size: 3 * 1024 ** 3, mode: 0o644, uid: 0 })), zeroMembers(48)]),
    /entry "zeros" is 3221225472 bytes, over the limit of 2147483648/],
  ['a malformed header (bad checksum)', () => tgz([...ok, { path: 'bad', data: 'x', badChecksum: true }]), /is corrupt: .*checksum/],
  ['a negative size field', () => tgz([...ok, { path: 'neg', sizeField: base256(-1n) }]), /entry "neg" has a negative, malformed or absurd size field/],
  ['an absurd size field', () => tgz([...ok, { path: 'huge', sizeField: base256(1n << 52n) }]), /entry "huge" is 4503599627370496 bytes, over the limit/],
  ['an archive truncated mid-entry', () => gzipSync(tarBytes([...ok, { path: 'big', data: Buffer.alloc(100_000, 1) }]).subarray(0, 3 * 512 + 1024 + 40_000)),
    /is corrupt: .*is truncated/],
  ['a character device', () => tgz([...ok, { path: 'null', type: '3' }]), /entry "null" is a character device/],
  ['a block device', () => tgz([...ok, { path: 'sda', type: '4' }]), /entry "sda" is a block device/],
  ['a FIFO', () => tgz([...ok, { path: 'pipe', type: '6' }]), /entry "pipe" is a fifo/],
  ['duplicate entries', () => tgz([...ok, { path: 'app/index.js', data: 'second' }]), /entry "app\/index\.js" appears twice/],
  ['a PAX record rewriting a path (path=../x)', () => tgz([...ok, pax({ path: ESCAPE }), { path: 'harmless', data: 'evil' }]), /has "\.\." in its path/],
  ['a PAX record rewriting a link target (linkpath=/etc)', () => tgz([...ok, pax({ linkpath: '/etc' }), { path: 'l', type: '2', linkpath: 'app' }]),
    /symlink "l" points to the absolute path "\/etc"/],
  ['a GNU long-name record rewriting a path', () => tgz([...ok, gnuLong(ESCAPE), { path: 'harmless', data: 'evil' }]), /has "\.\." in its path/],
  ['a GNU sparse PAX record renaming the entry', () => tgz([...ok, pax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': ESCAPE }), { path: 'harmless', data: 'x' }]),
    /keyword "GNU\.sparse\./],
  ['a NUL inside a PAX path (ok\\0../../x)', () => tgz([...ok, pax({ path: `ok\0${ESCAPE}` }), { path: 'harmless', data: 'evil' }]), /a PAX record "path" holds a NUL byte/],
  ['a NUL inside a GNU long name', () => tgz([...ok, gnuLong(`ok\0${ESCAPE}`), { path: 'harmless', data: 'evil' }]), /a GNU long-name record holds a NUL byte/],
  ['a directory named like the agent\'s completion marker', () => tgz([...ok, { path: '.slipway-release.json/', type: '5' }, { path: '.slipway-release.json/x', data: 'x' }]),
    /"\.slipway-release\.json", which the agent keeps for itself/],
];

for (const [name, build, expect] of cases) {
  test(`hostile tarball refused: ${name}`, async () => {
    await refusedByAgent(build(), expect);
  });
}
