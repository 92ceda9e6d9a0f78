// A swap whose recording fails (state.json cannot be written: here it is
// made a directory, as a full disk makes the write fail), with the
// in-memory runner: the swap is undone so that what runs is what state.json
// says: the new version stopped, the old one serving (hot) or started again
// (restart); the caller gets the error.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPaths } from '../../agent/paths.js';
import { RuntimeFixture, recorder, APP } from '../helpers/runtime-fixture.js';
import type { FakeProcess } from '../helpers/fake-runner.js';
import type { Release } from '../../agent/storage/releases.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const req = (r: Release) => ({ version: r.version, sha256: r.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false });
const paths = () => new AppPaths(f.dir, APP);

/** From now on state.json cannot be replaced (a directory with a file in it stands where it is). */
function breakStateWrites(): void {
  rmSync(paths().state);
  mkdirSync(paths().state);
  writeFileSync(join(paths().state, 'x'), '');
}

for (const strategy of ['hot', 'restart'] as const) {
  test(`${strategy}: a swap whose state write fails is undone: the new version stopped, the old one serves, current points at it`, async () => {
    const run = strategy === 'hot' ? { listen: [{ name: 'http', port: 4000 }] } : {};
    const v1 = f.releases.add('1.0.0', run);
    const v2 = f.releases.add('1.1.0', run);
    const rt = await f.load();
    await rt.activate(req(v1), recorder().emit);
    const old = rt.running as FakeProcess;
    // The writes fail from the moment the new version is about to be ready: the swap's own write fails.
    f.runner.behaviour.set('1.1.0', 'wait');
    const startedNext = f.runner.nextStart();
    const done = rt.activate(req(v2), recorder().emit);
    const started = await startedNext;
    await started.readinessAsked;
    breakStateWrites();
    started.ready();
    await assert.rejects(done, /EISDIR|ENOTEMPTY|EEXIST|illegal operation|directory/i);
    const next = f.runner.started.find((p) => p.version === '1.1.0');
    assert.ok(next && !next.running(), 'the new version was stopped');
    assert.equal(f.runner.live().length, 1, 'exactly one version runs');
    assert.equal(rt.runningRelease?.version, '1.0.0');
    assert.equal(rt.state, 'running');
    if (strategy === 'hot') {
      assert.equal(rt.running, old);
      assert.deepEqual(old.signals, [], 'the old one never noticed');
    } else {
      assert.deepEqual(f.runner.started.map((p) => p.version), ['1.0.0', '1.1.0', '1.0.0'], 'the old version started again');
    }
    assert.match(readlinkSync(paths().current), /^releases\/1\.0\.0-/);
    assert.equal(rt.persistedState.desired?.version, '1.0.0');
    assert.equal(rt.persistedState.activating, null);
    assert.equal(rt.persistedState.history.at(-1)?.result, 'failed');
    assert.equal(f.activations.at(-1)?.result, 'failed');
  });
}

test('an activation whose first write (the activation in progress) fails starts nothing and changes nothing', async () => {
  const v1 = f.releases.add('1.0.0', { listen: [{ name: 'http', port: 4000 }] });
  const v2 = f.releases.add('1.1.0', { listen: [{ name: 'http', port: 4000 }] });
  const rt = await f.load();
  await rt.activate(req(v1), recorder().emit);
  const old = rt.running as FakeProcess;
  breakStateWrites();
  await assert.rejects(rt.activate(req(v2), recorder().emit), /EISDIR|ENOTEMPTY|EEXIST|illegal operation|directory/i);
  assert.deepEqual(f.runner.started.map((p) => p.version), ['1.0.0'], 'nothing started');
  assert.equal(rt.running, old);
  assert.deepEqual(old.signals, []);
  assert.equal(rt.state, 'running');
  assert.equal(rt.persistedState.activating, null);
});

test('an operator\'s stop that cannot be recorded stops nothing and says why (a restarted agent would undo an unrecorded stop)', async () => {
  const v1 = f.releases.add('1.0.0', { listen: [{ name: 'http', port: 4000 }] });
  const rt = await f.load();
  await rt.activate(req(v1), recorder().emit);
  const proc = rt.running as FakeProcess;
  breakStateWrites();
  await assert.rejects(rt.stopApp(recorder().emit, 'ann'), /EISDIR|illegal operation/); // on a full disk: SLIPWAY_ERR_DISK_FULL, '… was not stopped'
  assert.equal(rt.running, proc);
  assert.deepEqual(proc.signals, []);
  assert.equal(rt.state, 'running');
  assert.equal(rt.persistedState.stopped, false);
});
