// The disk check before an upload, on a real small file system: the agent's
// state dir is a 12 MiB tmpfs (mount -t tmpfs; needs root: skipped otherwise,
// and test/unit/disk-space.test.ts covers the check with a stubbed reading).
// A small release fits; one of 6 MiB does not (2 × 6 MiB + a 2 MiB reserve)
// and is refused before a byte is stored, with the figures in the error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tempDir, makeAppRepo, newAgent, cleanup, cli, type AppRepo } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let mnt: string;
let agent: LocalAgent | undefined;
let repo: AppRepo;
let mounted = false;

before(() => {
  dir = tempDir('disk');
  mnt = join(dir, 'agent1');
  mkdirSync(mnt);
  mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0755', 'tmpfs', mnt]).status === 0;
});

after(async () => {
  if (agent) {
    await agent.stop('SIGKILL');
    killAppsUnder(agent.stateDir);
  }
  if (mounted) spawnSync('umount', ['-l', mnt]);
  cleanup(dir);
});

test('an upload that does not fit twice plus the reserve is refused with the figures; one that fits goes through', async (t) => {
  if (!mounted) {
    t.skip('cannot mount a tmpfs here (not root?); the stubbed reading in test/unit/disk-space.test.ts covers the check');
    return;
  }
  agent = await newAgent(dir, { dir: mnt, name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2`, extraConfig: `disk_reserve_bytes: ${2 * 1024 ** 2}\n` });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const small = await cli(repo.dir, 'deploy', 'staging', '1.0.0', '--upload-only');
  assert.equal(small.code, 0, small.stdout + small.stderr);

  // 6 MiB that gzip cannot shrink.
  mkdirSync(join(repo.dir, 'lib'), { recursive: true });
  writeFileSync(join(repo.dir, 'lib', 'blob.bin'), randomBytes(6 * 1024 ** 2));
  repo.release('2.0.0');
  const b = await cli(repo.dir, 'build', '2.0.0');
  assert.equal(b.code, 0, b.stderr);
  const big = await cli(repo.dir, 'deploy', 'staging', '2.0.0', '--upload-only');
  assert.equal(big.code, 1, big.stdout + big.stderr);
  const out = big.stdout + big.stderr;
  const state = join(mnt, 'state');
  assert.match(out, new RegExp(`not enough disk space for hello 2\\.0\\.0 \\(6\\.0 MiB\\): needs 14\\.\\d MiB, 1[012]\\.\\d MiB free on ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Nothing of it was stored, not even a temp file.
  const store = readdirSync(join(state, 'apps', 'hello', 'store'));
  assert.equal(store.filter((n) => n.endsWith('.tar.gz')).length, 1, store.join(', '));
  assert.deepEqual(store.filter((n) => n.startsWith('.')), []);
});
