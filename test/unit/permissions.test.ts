// agent/storage/permissions.ts: a release tree locked down for app_user, the state
// dir's modes, and the reachability check behind the agent's warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDownRelease, secureStateDir, userMay } from '../../agent/storage/permissions.js';
import type { Logger } from '../../agent/logger.js';

const mode = (p: string) => lstatSync(p).mode & 0o7777;
const quiet = { info: () => undefined, warn: () => undefined } as unknown as Logger;

test('lockDownRelease: dirs 0755, files 0644 or 0755, no special bits, owned by the agent; symlinks kept', async () => {
  const d = mkdtempSync(join(tmpdir(), 'slipway-perm-'));
  try {
    const rel = join(d, 'rel');
    mkdirSync(join(rel, 'lib', 'deep'), { recursive: true });
    writeFileSync(join(rel, 'server.js'), 'x');
    writeFileSync(join(rel, 'lib', 'run.sh'), 'x');
    writeFileSync(join(rel, 'lib', 'deep', 'data'), 'x');
    symlinkSync('server.js', join(rel, 'link'));
    chmodSync(join(rel, 'server.js'), 0o666);
    chmodSync(join(rel, 'lib', 'run.sh'), 0o4777);
    chmodSync(join(rel, 'lib', 'deep', 'data'), 0o600);
    chmodSync(join(rel, 'lib', 'deep'), 0o1777);
    chmodSync(rel, 0o700);
    assert.equal(await lockDownRelease(rel), 7);
    assert.equal(mode(rel), 0o755);
    assert.equal(mode(join(rel, 'lib', 'deep')), 0o755);
    assert.equal(mode(join(rel, 'server.js')), 0o644);
    assert.equal(mode(join(rel, 'lib', 'run.sh')), 0o755);
    assert.equal(mode(join(rel, 'lib', 'deep', 'data')), 0o644);
    assert.ok(lstatSync(join(rel, 'link')).isSymbolicLink());
    assert.equal(lstatSync(join(rel, 'server.js')).uid, process.getuid?.());
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('userMay: every directory above must let the user through; owner, group, other bits', async () => {
  const d = mkdtempSync(join(tmpdir(), 'slipway-perm-'));
  try {
    const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const stranger = { uid: 54_321, gid: 54_321 };
    const file = join(d, 'sub', 'f');
    mkdirSync(join(d, 'sub'));
    writeFileSync(file, 'x');
    chmodSync(file, 0o600);
    chmodSync(join(d, 'sub'), 0o700);
    chmodSync(d, 0o700);
    assert.equal(await userMay(file, me, 4), true);
    assert.equal(await userMay(file, stranger, 4), false);
    chmodSync(file, 0o644);
    assert.equal(await userMay(file, stranger, 4), false, 'the directories above are 0700');
    chmodSync(d, 0o711);
    chmodSync(join(d, 'sub'), 0o711);
    assert.equal(await userMay(file, stranger, 4), true);
    assert.equal(await userMay(file, stranger, 2), false);
    assert.equal(await userMay(join(d, 'sub'), stranger, 4), false, 'search, not list');
    assert.equal(await userMay(join(d, 'nothing'), stranger, 4), false);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('secureStateDir: with app_user, others may only pass through the state dir; private files 0600', async () => {
  const d = mkdtempSync(join(tmpdir(), 'slipway-perm-'));
  try {
    mkdirSync(join(d, 'apps'), { mode: 0o755 });
    for (const f of ['agent.json', 'locks.json', 'history.jsonl']) writeFileSync(join(d, f), '{}', { mode: 0o644 });
    chmodSync(d, 0o757);
    await secureStateDir(d, { uid: 54_321, gid: 54_321 }, quiet);
    assert.equal(statSync(d).mode & 0o777, 0o751);
    assert.equal(mode(join(d, 'apps')), 0o711);
    for (const f of ['agent.json', 'locks.json', 'history.jsonl']) assert.equal(mode(join(d, f)), 0o600, f);
    // app_user in the state dir's group (the systemd unit's Group=slipway): the group bit lets it through.
    chmodSync(d, 0o700);
    await secureStateDir(d, { uid: 54_321, gid: statSync(d).gid }, quiet);
    assert.equal(statSync(d).mode & 0o777, 0o710);
    // Without app_user: apps/ 0750, the state dir as it was.
    await secureStateDir(d, undefined, quiet);
    assert.equal(mode(join(d, 'apps')), 0o750);
    assert.equal(statSync(d).mode & 0o777, 0o710);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
