// Temp files of interrupted atomic writes in the state dir's root and the
// apps' shared/ dirs are removed at agent start; this process's own are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeHostLeftovers } from '../../agent/storage/leftovers.js';

test('removeHostLeftovers: other processes\' .tmp-* in the state dir and shared/ go; ours, and real files, stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-leftovers-'));
  try {
    const shared = join(dir, 'apps', 'hello', 'shared');
    mkdirSync(shared, { recursive: true });
    const other = process.pid + 1;
    writeFileSync(join(dir, `.tmp-locks.json-${other}-8e59b842`), '{');
    writeFileSync(join(dir, `.tmp-agent.json-${other}-00aa11bb`), '');
    writeFileSync(join(dir, `.tmp-locks.json-${process.pid}-feedbeef`), '{'); // being written now
    writeFileSync(join(dir, 'locks.json'), '{}');
    writeFileSync(join(shared, `.tmp-env-${other}-0123abcd`), 'A=1');
    writeFileSync(join(shared, 'env'), 'A=1\n');
    const logged: unknown[] = [];
    const n = await removeHostLeftovers(dir, { info: (o: unknown) => logged.push(o) } as never);
    assert.equal(n, 3);
    assert.equal(logged.length, 3);
    assert.deepEqual(readdirSync(dir).sort(), [`.tmp-locks.json-${process.pid}-feedbeef`, 'apps', 'locks.json']);
    assert.deepEqual(readdirSync(shared), ['env']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
