// The single executable for linux-arm64, built on this x86_64 machine from
// the official arm64 Node of the same version (scripts/build-sea.mjs --arch
// arm64) and run under qemu-user (scripts/arm64-emulation.sh): the same
// checks as for this machine's CPU (test/helpers/sea-suite.ts). Emulated, the
// agent starts in about 10 s instead of 1 s, so its start gets 2 minutes.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { seaSuite } from '../helpers/sea-suite.js';
import { ROOT } from '../helpers/env.js';

const emulated = process.arch !== 'arm64';
const ready = !emulated || spawnSync('sh', [join(ROOT, 'scripts', 'arm64-emulation.sh')], { stdio: 'ignore' }).status === 0;
if (!ready) {
  test('the arm64 executable', { skip: 'no arm64 emulation here: install qemu-user-static, libc6-arm64-cross and libstdc++6-arm64-cross, then run scripts/arm64-emulation.sh as root (.ci/run does both)' }, () => {});
} else {
  // The emulator finds the arm64 C library here (Debian's libc6-arm64-cross); children inherit it.
  if (emulated) process.env.QEMU_LD_PREFIX ??= '/usr/aarch64-linux-gnu';
  seaSuite({ arch: 'arm64', startTimeoutMs: 120_000 });
}
