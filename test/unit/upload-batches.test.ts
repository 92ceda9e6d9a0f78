// Upload hands its bytes to the hash worker and the file in batches of
// UPLOAD_BATCH_BYTES (agent/storage/store.ts): chunks that straddle a batch,
// one larger than a batch, and a remainder left at commit all land in the
// file and the digest exactly once and in order; bytes held in a batch that
// is aborted leave nothing behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ReleaseStore, UPLOAD_BATCH_BYTES, type Upload } from '../../agent/storage/store.js';

const base = mkdtempSync(join(tmpdir(), 'slipway-upload-batches-'));
const stores: ReleaseStore[] = [];
after(async () => {
  for (const s of stores) await s.hasher.close();
  rmSync(base, { recursive: true, force: true });
});

/** A store of its own for each test, under base/NAME. */
function newStore(name: string): { store: ReleaseStore; storeDir: string } {
  const store = new ReleaseStore({ stateDir: join(base, name), maxBytes: 1 << 30, log: pino({ level: 'silent' }) });
  stores.push(store);
  return { store, storeDir: join(base, name, 'apps', 'hello', 'store') };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function open(store: ReleaseStore, version: string, data: Buffer, sha256 = sha(data)): Promise<Upload> {
  const opened = await store.open({ app: 'hello', version, sha256, size: data.length });
  assert.ok('upload' in opened);
  return opened.upload;
}

/** Writes data in pieces of the given sizes (cycled), as a network would deliver them. */
function writeIn(upload: Upload, data: Buffer, sizes: number[]): void {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - at);
    upload.write(data.subarray(at, at + n));
    at += n;
  }
}

test('pieces that straddle batches, one larger than a batch, and a remainder at commit: the file and the digest are the bytes sent', async () => {
  const { store, storeDir } = newStore('pieces');
  const data = randomBytes(UPLOAD_BATCH_BYTES * 3 + 12_345);
  const cases: [string, number[]][] = [['1.0.0', [16_384]], ['1.0.1', [1, 7_000, UPLOAD_BATCH_BYTES - 3]], ['1.0.2', [UPLOAD_BATCH_BYTES * 2 + 5]], ['1.0.3', [data.length]]];
  for (const [version, sizes] of cases) {
    const d = Buffer.concat([Buffer.from(version), data]);
    const upload = await open(store, version, d);
    writeIn(upload, d, sizes);
    const meta = await upload.commit();
    assert.equal(meta.sha256, sha(d), `${sizes.join(',')}`);
    assert.ok(readFileSync(join(storeDir, `${sha(d)}.tar.gz`)).equals(d), `${sizes.join(',')}: the stored file is the bytes sent`);
  }
});

test('a byte changed inside a batch is refused at commit; an upload aborted with bytes held leaves nothing', async () => {
  const { store, storeDir } = newStore('refused');
  const data = randomBytes(UPLOAD_BATCH_BYTES + 999);
  const bad = Buffer.from(data);
  bad[UPLOAD_BATCH_BYTES + 500] ^= 1; // in the remainder, which only commit hands on
  const upload = await open(store, '2.0.0', bad, sha(data));
  writeIn(upload, bad, [65_536]);
  await assert.rejects(upload.commit(), /have sha256 [0-9a-f]{64}, not [0-9a-f]{64}/);
  const held = await open(store, '2.0.1', data);
  writeIn(held, data.subarray(0, 1000), [100]); // under one batch: nothing handed on yet
  await held.abort();
  assert.deepEqual(readdirSync(storeDir), [], 'nothing stored, no temp file left');
});
