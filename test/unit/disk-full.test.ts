// A full disk under the state dir, for real (a small tmpfs): what fails says
// that the disk is full and where, and leaves nothing half done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import { LockTable } from '../../agent/locks.js';
import { mountSmallFs, smallFsUnavailable } from '../helpers/small-fs.js';

const skip = smallFsUnavailable();
const log = { warn() {}, info() {}, error() {} } as never;

test('a lock whose write hits a full disk holds nothing, says so, and works once space is freed', { skip }, async () => {
  const fs = mountSmallFs(256 * 1024);
  try {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const locks = new LockTable(fs.dir, log, () => now);
    fs.fill();
    await assert.rejects(locks.acquire('hello', 'ci-1', 'deploying', 30), (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.equal(err.code, 'SLIPWAY_ERR_DISK_FULL');
      assert.match(err.message, new RegExp(`^no space left on the file system of ${fs.dir} \\(\\d+ B free of 256 KiB\\): the lease was not taken`));
      return true;
    });
    assert.equal(locks.current('hello'), undefined);
    assert.deepEqual(readdirSync(fs.dir).filter((f) => f !== '.filler'), []); // no temp file left
    // Someone else can take it at once: nothing stale is held.
    fs.free();
    const { lease } = await locks.acquire('hello', 'ci-2', 'deploying', 30);
    assert.equal(JSON.parse(readFileSync(join(fs.dir, 'locks.json'), 'utf8')).leases[0].holder, 'ci-2');
    // A release that cannot be written keeps the lease, in memory as on disk.
    fs.fill();
    await assert.rejects(locks.release('hello', 'ci-2', lease.lease_id, false), /the lease was not released/);
    assert.equal(locks.current('hello')?.holder, 'ci-2');
    fs.free();
    now += 1000;
    assert.equal((await locks.release('hello', 'ci-2', lease.lease_id, false)).released?.holder, 'ci-2');
  } finally {
    fs.unmount();
  }
});

test('env set on a full disk says so and keeps the old shared/env whole', { skip }, async () => {
  const { changeSharedEnv, readSharedEnv } = await import('../../agent/runtime/shared-env.js');
  const fs = mountSmallFs(256 * 1024);
  try {
    const file = join(fs.dir, 'apps', 'hello', 'shared', 'env');
    await changeSharedEnv(file, { A: '1' }, []);
    fs.fill();
    await assert.rejects(changeSharedEnv(file, { B: 'x'.repeat(60_000) }, []), (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.equal(err.code, 'SLIPWAY_ERR_DISK_FULL');
      assert.match(err.message, /no space left on the file system of .*shared .*: shared\/env was not changed/);
      return true;
    });
    assert.deepEqual(await readSharedEnv(file), { A: '1' });
    assert.deepEqual(readdirSync(join(fs.dir, 'apps', 'hello', 'shared')), ['env']);
    fs.free();
    assert.deepEqual(await changeSharedEnv(file, { B: '2' }, []), { A: '1', B: '2' });
  } finally {
    fs.unmount();
  }
});

test('an unpack that fills the disk says the disk is full, where, with the figures (GNU tar said only "Wrote only … bytes"), and leaves nothing', { skip }, async () => {
  const { unpackTarball } = await import('../../agent/storage/unpack/index.js');
  const { tgz } = await import('../helpers/tarball.js');
  const { randomBytes } = await import('node:crypto');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const fs = mountSmallFs(4 * 1024 * 1024);
  try {
    const tarball = join(fs.dir, 'r.tar.gz');
    writeFileSync(tarball, tgz([{ path: 'slipway.json', data: '{}' }, { path: 'pad.bin', data: randomBytes(3 * 1024 * 1024) }]));
    mkdirSync(join(fs.dir, 'releases'));
    await assert.rejects(unpackTarball(tarball, join(fs.dir, 'releases', 'r')), (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.equal(err.code, 'SLIPWAY_ERR_DISK_FULL', err.message);
      assert.match(err.message, new RegExp(`^no space left on the file system of ${fs.dir}/releases \\(.* free of 4 MiB\\): release tarball could not be extracted \\(.*Wrote only`));
      return true;
    });
    assert.deepEqual(readdirSync(join(fs.dir, 'releases')), []);
  } finally {
    fs.unmount();
  }
});

test('an app log on a full disk loses what cannot be written, says so, and goes on once space is freed', { skip }, async () => {
  const { AppLog } = await import('../../agent/runtime/process/app-log.js');
  const fs = mountSmallFs(256 * 1024);
  try {
    const log = new AppLog(join(fs.dir, 'logs'), 1024 * 1024, 2);
    log.write('before\n');
    await new Promise((r) => setTimeout(r, 50));
    fs.fill();
    for (let i = 0; i < 20; i++) log.write(`${'x'.repeat(4000)} lost ${i}\n`);
    // The failed writes are reported by the stream; wait until the log noticed.
    for (const t0 = Date.now(); !(log as unknown as { lost: boolean }).lost && Date.now() - t0 < 10_000;) await new Promise((r) => setTimeout(r, 20));
    fs.free();
    log.write('after\n');
    let text = '';
    for (const t0 = Date.now(); !text.includes('after') && Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 20))) {
      text = readFileSync(join(fs.dir, 'logs', 'app.log'), 'utf8');
    }
    assert.match(text, /^before\n/);
    assert.match(text, /some output was lost: it could not be written here \(is the disk full\?\)\nafter\n$/);
    log.close();
  } finally {
    fs.unmount();
  }
});
