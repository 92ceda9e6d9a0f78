// The upload hasher (agent/storage/hasher.ts): right digests from its worker thread,
// and the thread ends when no hash has run for a while (its V8 heap is
// memory the agent would otherwise hold between deploys).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Hasher } from '../../agent/storage/hasher.js';

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('hasher: sha256 of the bytes; the worker ends when idle and a new one starts for the next hash', async () => {
  const h = new Hasher(50);
  try {
    for (let round = 0; round < 2; round++) {
      const parts = [randomBytes(1000), randomBytes(70_000), Buffer.alloc(0), randomBytes(3)];
      const job = h.begin();
      for (const p of parts) job.update(p);
      assert.equal(h.alive, true);
      assert.equal(await job.digest(), createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
      await until(() => !h.alive, 'the idle worker to end');
    }
  } finally {
    await h.close();
  }
});

test('hasher: the worker stays while a hash runs; a dropped hash counts as done', async () => {
  const h = new Hasher(50);
  try {
    const a = h.begin();
    const b = h.begin();
    a.update(Buffer.from('abc'));
    b.update(Buffer.from('x'));
    b.drop();
    // a is still running: the worker must not end under it.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.alive, true);
    assert.equal(await a.digest(), createHash('sha256').update('abc').digest('hex'));
    await until(() => !h.alive, 'the idle worker to end');
  } finally {
    await h.close();
  }
});
