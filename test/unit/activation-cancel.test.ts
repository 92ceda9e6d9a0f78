// A cancelled activation (the client's Ctrl-C or deadline: the signal the
// Activate handler passes) at each step, with the in-memory runner: the old
// version keeps serving, or is started again where the restart strategy had
// stopped it, and the app's history and the agent's say it was cancelled.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeFixture, recorder } from '../helpers/runtime-fixture.js';
import type { AppRuntime, ActivateRequest } from '../../agent/runtime/app-runtime.js';
import type { Release } from '../../agent/storage/releases.js';
import type { FakeProcess } from '../helpers/fake-runner.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const HOT = { listen: [{ name: 'http', port: 4000 }] };
const req = (r: Release): ActivateRequest => ({ version: r.version, sha256: r.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false });
const CANCELLED = 'activation cancelled by the client';

async function running(r: Release): Promise<{ rt: AppRuntime; old: FakeProcess }> {
  const rt = await f.load();
  await rt.activate(req(r), recorder().emit);
  return { rt, old: rt.running as FakeProcess };
}

/** What every cancelled activation leaves: 1.0.0 runs, desired and on top of the stack; both histories say why. */
function assertCancelled(rt: AppRuntime, message: string | RegExp): void {
  assert.equal(rt.state, 'running');
  assert.equal(rt.runningRelease?.version, '1.0.0');
  assert.equal(rt.persistedState.desired?.version, '1.0.0');
  assert.deepEqual(rt.persistedState.stack.map((a) => a.version), ['1.0.0']);
  const last = rt.persistedState.history.at(-1);
  assert.equal(last?.version, '1.1.0');
  assert.equal(last?.result, 'failed');
  assert.match(last?.message ?? '', typeof message === 'string' ? new RegExp(`^${message}`) : message);
  const ev = f.activations.at(-1);
  assert.equal(ev?.result, 'failed');
  assert.equal(ev?.version, '1.1.0');
  assert.equal(ev?.from, '1.0.0');
  assert.match(ev?.message ?? '', /cancelled by the client/);
}

test('hot: cancelled while the new version becomes ready: it is stopped, the old one was never signalled', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const { rt, old } = await running(v1);
  f.runner.behaviour.set('1.1.0', 'wait');
  const ac = new AbortController();
  const rec = recorder();
  const started = f.runner.nextStart();
  const done = rt.activate(req(v2), rec.emit, ac.signal);
  const next = await started;
  await next.readinessAsked;
  ac.abort('cancelled by the client');
  await done;
  assert.deepEqual(next.signals, ['SIGTERM']);
  assert.equal(next.running(), false);
  assert.deepEqual(old.signals, []);
  assert.equal(rt.running, old);
  assertCancelled(rt, CANCELLED);
  assert.deepEqual(rec.events.at(-1), { event: 'failed', message: CANCELLED, output: [] });
  assert.equal(f.transitions.at(-1), 'activating>running');
});

test('restart: cancelled while the new version becomes ready: it is stopped and the old release started again', async () => {
  const v1 = f.releases.add('1.0.0');
  const v2 = f.releases.add('1.1.0');
  const { rt, old } = await running(v1);
  f.runner.behaviour.set('1.1.0', 'wait');
  const ac = new AbortController();
  const started = f.runner.nextStart();
  const done = rt.activate(req(v2), recorder().emit, ac.signal);
  const next = await started;
  await next.readinessAsked;
  ac.abort('cancelled by the client');
  await done;
  assert.deepEqual(old.signals, ['SIGTERM']);
  assert.deepEqual(next.signals, ['SIGTERM']);
  assert.deepEqual(f.runner.started.map((p) => `${p.version}${p.running() ? ' running' : ''}`), ['1.0.0', '1.1.0', '1.0.0 running']);
  assertCancelled(rt, CANCELLED);
});

test('restart: cancelled while the old version drains: the drain ends, the new one is never started, the old release starts again', async () => {
  const v1 = f.releases.add('1.0.0');
  const v2 = f.releases.add('1.1.0');
  const { rt, old } = await running(v1);
  const drained = old.holdStops();
  const ac = new AbortController();
  const done = rt.activate(req(v2), recorder().emit, ac.signal);
  while (old.signals.length === 0) await new Promise((r) => setImmediate(r));
  ac.abort('cancelled by the client');
  drained();
  await done;
  assert.deepEqual(f.runner.started.map((p) => p.version), ['1.0.0', '1.0.0']);
  assertCancelled(rt, CANCELLED);
});

test('cancelled while the release unpacks: nothing was started or signalled', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const { rt, old } = await running(v1);
  const hold = f.releases.holdNextUnpack();
  const ac = new AbortController();
  const rec = recorder();
  const done = rt.activate(req(v2), rec.emit, ac.signal);
  await hold.asked;
  ac.abort('cancelled by the client');
  await done;
  assert.deepEqual(rec.names(), ['unpacking', 'failed']);
  assert.equal(f.runner.started.length, 1);
  assert.deepEqual(old.signals, []);
  assertCancelled(rt, `${CANCELLED} while unpacking 1.1.0`);
  assert.ok(!f.transitions.includes('running>activating'), 'the swap never began');
});

test('cancelled before it began: nothing is touched, and the history says so', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const { rt, old } = await running(v1);
  const ac = new AbortController();
  ac.abort('cancelled by the client');
  await rt.activate(req(v2), recorder().emit, ac.signal);
  assert.equal(f.runner.started.length, 1);
  assert.deepEqual(old.signals, []);
  assertCancelled(rt, CANCELLED);
  assert.ok(!f.transitions.includes('running>activating'), 'the swap never began');
});

test('a cancel after the swap is done changes nothing', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const { rt } = await running(v1);
  const ac = new AbortController();
  await rt.activate(req(v2), recorder().emit, ac.signal);
  ac.abort('cancelled by the client');
  assert.equal(rt.runningRelease?.version, '1.1.0');
  assert.equal(rt.persistedState.history.at(-1)?.result, 'done');
});

test('an operator\'s start given up by its client: the started process is stopped, the app stays stopped', async () => {
  const v1 = f.releases.add('1.0.0');
  const { rt } = await running(v1);
  await rt.stopApp(recorder().emit, 'ann');
  f.runner.behaviour.set('1.0.0', 'wait');
  const ac = new AbortController();
  const rec = recorder();
  const started = f.runner.nextStart();
  const done = rt.startApp(rec.emit, ac.signal);
  const p = await started;
  await p.readinessAsked;
  ac.abort('cancelled by the client');
  await done;
  assert.deepEqual(p.signals, ['SIGTERM']);
  assert.equal(rt.state, 'stopped');
  assert.equal(rt.stateReason, 'start failed: start cancelled by the client');
  assert.equal(rec.events.at(-1)?.event, 'failed');
});
