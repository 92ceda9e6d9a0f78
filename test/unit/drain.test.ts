// Draining old versions, with the in-memory runner (test/helpers/
// fake-runner.ts): a version still draining when the next swap begins keeps
// draining until its own deadline; only beyond stop.max_draining versions
// draining at once is the oldest killed early, and that is counted;
// reconcile leaves draining versions alone.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeFixture, recorder, until } from '../helpers/runtime-fixture.js';
import type { AppRuntime } from '../../agent/runtime/app-runtime.js';
import type { FakeProcess } from '../helpers/fake-runner.js';
import type { Release } from '../../agent/storage/releases.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const run = (maxDraining?: number) => ({ listen: [{ name: 'http', port: 4000 }], stop: { drain_timeout_s: 30, ...(maxDraining ? { max_draining: maxDraining } : {}) } });

/** Activates r; the version that ran before drains slowly (its stop waits, as a real drain does, until its connections end). */
async function swapTo(rt: AppRuntime, r: Release): Promise<FakeProcess | undefined> {
  const old = rt.running as FakeProcess | undefined;
  old?.holdStops();
  await rt.activate({ version: r.version, sha256: r.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false }, recorder().emit);
  assert.equal(rt.runningRelease?.version, r.version);
  return old;
}

test('back-to-back swaps: a version still draining keeps draining through the next swap (no SIGKILL), within max_draining', async () => {
  const vs = ['1.0.0', '1.1.0', '1.2.0'].map((v) => f.releases.add(v, run()));
  const rt = await f.load();
  await swapTo(rt, vs[0]);
  const first = await swapTo(rt, vs[1]);
  const second = await swapTo(rt, vs[2]);
  assert.deepEqual(first?.signals, ['SIGTERM'], 'the older one was not killed when the next swap began');
  assert.ok(first?.running());
  assert.deepEqual(second?.signals, ['SIGTERM']);
  assert.equal(rt.drainKills, 0);
  await rt.reconcile();
  assert.deepEqual(first?.signals, ['SIGTERM'], 'reconcile leaves draining versions alone');
  assert.deepEqual(second?.signals, ['SIGTERM']);
  assert.equal(rt.runningRelease?.version, '1.2.0');
});

test('beyond stop.max_draining versions draining at once, the oldest is killed early and counted', async () => {
  const vs = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((v) => f.releases.add(v, run(2)));
  const rt = await f.load();
  await swapTo(rt, vs[0]);
  const a = await swapTo(rt, vs[1]);
  const b = await swapTo(rt, vs[2]);
  assert.equal(rt.drainKills, 0, 'two draining: within max_draining 2');
  const c = await swapTo(rt, vs[3]);
  await until(() => !a?.running(), 'the oldest draining version to be killed');
  assert.deepEqual(a?.signals, ['SIGTERM', 'SIGKILL']);
  assert.deepEqual(b?.signals, ['SIGTERM']);
  assert.deepEqual(c?.signals, ['SIGTERM']);
  assert.ok(b?.running() && c?.running());
  assert.equal(rt.drainKills, 1);
});
