// .slipway/unknown-outcomes.json: hosts whose last deploy or rollback ended
// unknown are marked per environment; a later command that sees a host's
// outcome clears it; hosts it did not reach keep their mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordOutcomes, unknownOutcomes } from '../../coordinator/unknown-outcomes.js';

const at = new Date('2026-11-30T10:00:00Z');
const host = (h: string, outcome: string, error?: string) => ({ host: h, outcome, before: { version: '1.0.0' }, ...(error ? { error: { message: error } } : {}) });

test('marks unknown hosts, keeps hosts not reached, clears hosts whose outcome was seen; environments apart', async () => {
  const root = mkdtempSync(join(tmpdir(), 'slipway-unknown-'));
  try {
    assert.deepEqual(unknownOutcomes(root, 'prod'), {}, 'no file: no marks');
    await recordOutcomes(root, 'prod', 'deploy', [host('a', 'reverted'), host('b', 'unknown', 'outcome unknown: no answer'), host('c', 'unknown')], '1.1.0', at);
    await recordOutcomes(root, 'staging', 'deploy', [host('a', 'unknown')], '2.0.0', at);
    assert.deepEqual(unknownOutcomes(root, 'prod'), {
      b: { command: 'deploy', version: '1.1.0', from: '1.0.0', at: at.toISOString(), message: 'outcome unknown: no answer' },
      c: { command: 'deploy', version: '1.1.0', from: '1.0.0', at: at.toISOString(), message: 'outcome unknown' },
    });
    await recordOutcomes(root, 'prod', 'rollback', [host('b', 'switched'), host('c', 'not_reached')], '1.0.0', at);
    assert.deepEqual(Object.keys(unknownOutcomes(root, 'prod')), ['c']);
    await recordOutcomes(root, 'prod', 'deploy', [host('c', 'failed')], '1.1.0', at);
    assert.deepEqual(unknownOutcomes(root, 'prod'), {});
    assert.deepEqual(Object.keys(unknownOutcomes(root, 'staging')), ['a']);
    // An unreadable file is no marks, never an error.
    mkdirSync(join(root, '.slipway'), { recursive: true });
    writeFileSync(join(root, '.slipway', 'unknown-outcomes.json'), '{not json');
    assert.deepEqual(unknownOutcomes(root, 'staging'), {});
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
