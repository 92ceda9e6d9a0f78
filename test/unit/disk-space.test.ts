// agent/storage/disk-space.ts: the figures and the message of the disk check before
// an upload. The check on a real small file system (tmpfs) is in
// test/integration/disk-space.test.ts; here the free-space reading is stubbed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesNeeded, checkDiskSpace, diskProblem, formatSize, freeBytes } from '../../agent/storage/disk-space.js';
import { SlipwayError } from '../../common/errors.js';
import { tmpdir } from 'node:os';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

test('an upload needs twice the release plus the reserve', () => {
  assert.equal(bytesNeeded(100 * MiB, 512 * MiB), 712 * MiB);
  assert.equal(diskProblem('hello 1.0.0', 100 * MiB, 512 * MiB, 712 * MiB, '/var/lib/slipway'), undefined);
  assert.match(diskProblem('hello 1.0.0', 100 * MiB, 512 * MiB, 712 * MiB - 1, '/var/lib/slipway') ?? '', /needs 712 MiB, 712 MiB free/);
});

test('the message names what is needed, what is free and where, in binary units', () => {
  const msg = diskProblem('hello 2.0.0', 0.35 * GiB, 512 * MiB, 300 * MiB, '/var/lib/slipway');
  assert.ok(msg);
  assert.match(msg, /^not enough disk space for hello 2\.0\.0 \(358 MiB\): needs 1\.2 GiB, 300 MiB free on \/var\/lib\/slipway \(twice the release/);
  assert.match(msg, /slipway prune/);
  assert.deepEqual([formatSize(100), formatSize(1536), formatSize(GiB), formatSize(1.25 * GiB), formatSize(300 * MiB)], ['100 B', '1.5 KiB', '1 GiB', '1.3 GiB', '300 MiB']);
});

test('checkDiskSpace refuses with SLIPWAY_ERR_DISK_FULL on a stubbed reading, and reads the real one by default', async () => {
  const check = { path: '/var/lib/slipway', reserve: 512 * MiB, free: async () => 300 * MiB };
  await assert.rejects(checkDiskSpace(check, 'hello 2.0.0', 0.35 * GiB), (err: unknown) => {
    assert.ok(err instanceof SlipwayError);
    assert.equal(err.code, 'SLIPWAY_ERR_DISK_FULL');
    assert.equal(err.spec.grpc, 'RESOURCE_EXHAUSTED');
    assert.match(err.message, /needs 1\.2 GiB, 300 MiB free on \/var\/lib\/slipway/);
    return true;
  });
  await checkDiskSpace({ ...check, free: async () => 2 * GiB }, 'hello 2.0.0', 0.35 * GiB);
  assert.ok((await freeBytes(tmpdir())) > 0);
});
