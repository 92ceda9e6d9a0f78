// coordinator/agent-upgrade/build.ts lists the files the agent's bundle loads
// from beside itself (it cannot import agent/worker-file.ts into the CLI's
// CommonJS bundle): the list must hold every entry of BUNDLED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUNDLED } from '../../agent/worker-file.js';

test('the agent build carries every file the bundle loads beside itself', () => {
  const src = readFileSync(new URL('../../coordinator/agent-upgrade/build.ts', import.meta.url), 'utf8');
  for (const f of Object.values(BUNDLED)) assert.ok(src.includes(`'${f}'`), `${f} is missing from BESIDE_BUNDLE`);
});
