// Erlang's heart under slipway: the agent warns when an app's settings turn
// it on (heartSettings, pure) — in the VM's flag variables, HEART_COMMAND,
// or a release's vm.args (releaseVmArgs finds them in a release dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heartSettings, releaseVmArgs } from '../../agent/runtime/app-env.js';

test('heartSettings names each place that turns heart on, and nothing else', () => {
  assert.deepEqual(heartSettings({ PATH: '/bin', ERL_FLAGS: '+K true' }), []);
  assert.deepEqual(heartSettings({ ERL_FLAGS: '-heart -env HEART_BEAT_TIMEOUT 30', ELIXIR_ERL_OPTIONS: '-kernel x -heart', HEART_COMMAND: 'bin/app start' }),
    ['ERL_FLAGS has -heart', 'ELIXIR_ERL_OPTIONS has -heart', 'HEART_COMMAND is set']);
  assert.deepEqual(heartSettings({ ERL_AFLAGS: '-heartbeat' }), [], 'a longer flag is not -heart');
  assert.deepEqual(heartSettings({}, [{ file: 'release/releases/0.1.0/vm.args', text: '## -heart is off\n-name x\n  -heart\n' }]), ['release/releases/0.1.0/vm.args has -heart']);
  assert.deepEqual(heartSettings({}, [{ file: 'vm.args', text: '## -heart\n# -heart\n' }]), [], 'comments do not count');
});

test('releaseVmArgs finds releases/*/vm.args at the release dir\'s root and one level down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-heart-'));
  try {
    mkdirSync(join(dir, 'release', 'releases', '0.2.0'), { recursive: true });
    writeFileSync(join(dir, 'release', 'releases', '0.2.0', 'vm.args'), '-heart\n');
    mkdirSync(join(dir, 'releases', '1.0.0'), { recursive: true });
    writeFileSync(join(dir, 'releases', '1.0.0', 'vm.args'), '-name a\n');
    mkdirSync(join(dir, 'lib', 'deep', 'releases', '9.9.9', 'x'), { recursive: true });
    const found = await releaseVmArgs(dir);
    assert.deepEqual(found.map((f) => f.file).sort(), ['release/releases/0.2.0/vm.args', 'releases/1.0.0/vm.args']);
    assert.deepEqual(heartSettings({}, found), ['release/releases/0.2.0/vm.args has -heart']);
    assert.deepEqual(await releaseVmArgs(join(dir, 'missing')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
