// AppRuntime with the in-memory runner (test/helpers/fake-runner.ts): swaps,
// failed swaps, crash restarts, crash loops and the automatic rollback,
// reconcile after an agent restart, an operator's stop and start. No
// process of the OS is started; state.json and the `current` link are real.
// Longer than ~300 lines on purpose: every AppRuntime scenario against the one in-memory runner fixture, read top to bottom as the lifecycle.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { AppPaths } from '../../agent/paths.js';
import { RuntimeFixture, recorder, until, APP } from '../helpers/runtime-fixture.js';
import type { AppRuntime, ActivateRequest } from '../../agent/runtime/app-runtime.js';
import type { Release } from '../../agent/storage/releases.js';
import type { FakeProcess } from '../helpers/fake-runner.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const HOT = { listen: [{ name: 'http', port: 4000 }] };
const req = (r: Release, more: Partial<ActivateRequest> = {}): ActivateRequest => ({
  version: r.version, sha256: r.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false, ...more,
});
const proc = (rt: AppRuntime) => rt.running as FakeProcess;
const stateFile = () => JSON.parse(readFileSync(new AppPaths(f.dir, APP).state, 'utf8')) as { desired: { version: string } | null; stopped: boolean; restarts: number; processes: { pid: number }[] };

/** A runtime that runs `r` (activated, ready). */
async function running(r: Release): Promise<AppRuntime> {
  const rt = await f.load();
  await rt.activate(req(r), recorder().emit);
  assert.equal(rt.state, 'running');
  return rt;
}

test('first activation: starts the release, waits until ready, records it, points current at it', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await f.load();
  const rec = recorder();
  await rt.activate(req(r), rec.emit);
  assert.equal(rt.state, 'running');
  assert.equal(rt.runningRelease?.version, '1.0.0');
  assert.deepEqual(rec.names(), ['starting', 'ready', 'done']);
  assert.equal(stateFile().desired?.version, '1.0.0');
  assert.deepEqual(stateFile().processes.map((p) => p.pid), [proc(rt).pid]);
  assert.match(readlinkSync(new AppPaths(f.dir, APP).current), /^releases\/1\.0\.0-/);
  assert.deepEqual(f.transitions, ['stopped>activating', 'activating>running']);
  assert.equal(f.activations.at(-1)?.result, 'done');
  assert.equal(f.activations.at(-1)?.strategy, 'restart');
});

test('hot swap: the new version starts beside the old one, the old one drains once the new one is ready', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const rt = await running(v1);
  const old = proc(rt);
  f.runner.behaviour.set('1.1.0', 'wait');
  const rec = recorder();
  const startedNext = f.runner.nextStart();
  const done = rt.activate(req(v2), rec.emit);
  const next = await startedNext;
  await next.readinessAsked;
  assert.equal(rt.state, 'activating');
  assert.deepEqual(old.signals, [], 'the old one serves while the new one is not ready');
  next.ready();
  await done;
  assert.equal(rt.running, next);
  assert.deepEqual(old.signals, ['SIGTERM']);
  assert.deepEqual(rec.names(), ['starting', 'ready', 'draining', 'done']);
  assert.deepEqual(rt.persistedState.stack.map((a) => a.version), ['1.0.0', '1.1.0']);
  assert.equal(f.activations.at(-1)?.from, '1.0.0');
});

test('hot swap whose new version fails its readiness: it is stopped, the old one never noticed and keeps running', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const rt = await running(v1);
  const old = proc(rt);
  f.runner.behaviour.set('1.1.0', 'wait');
  const rec = recorder();
  const startedNext = f.runner.nextStart();
  const done = rt.activate(req(v2), rec.emit);
  const next = await startedNext;
  await next.readinessAsked;
  next.failReady('GET /healthz answered 500');
  await done;
  assert.deepEqual(next.signals, ['SIGTERM']);
  assert.deepEqual(old.signals, []);
  assert.equal(rt.running, old);
  assert.equal(rt.state, 'running');
  assert.equal(rec.events.at(-1)?.event, 'failed');
  assert.match(rec.events.at(-1)?.message ?? '', /answered 500/);
  assert.equal(rt.persistedState.desired?.version, '1.0.0');
  assert.equal(rt.persistedState.history.at(-1)?.result, 'failed');
  assert.equal(f.activations.at(-1)?.result, 'failed');
});

test('restart strategy whose new version exits before it is ready: the old version is started again', async () => {
  const v1 = f.releases.add('1.0.0');
  const v2 = f.releases.add('1.1.0');
  const rt = await running(v1);
  const old = proc(rt);
  f.runner.behaviour.set('1.1.0', 'crash');
  const rec = recorder();
  await rt.activate(req(v2), rec.emit);
  assert.deepEqual(old.signals, ['SIGTERM'], 'restart stops the old one first');
  assert.deepEqual(f.runner.started.map((p) => p.version), ['1.0.0', '1.1.0', '1.0.0']);
  assert.equal(rt.state, 'running');
  assert.equal(rt.runningRelease?.version, '1.0.0');
  assert.notEqual(rt.running, old);
  assert.match(rec.events.at(-1)?.message ?? '', /exited with code 3 before it was ready/);
  assert.equal(rt.persistedState.restarts, 0, 'a failed activation is no crash');
});

test('a first activation that fails leaves the app stopped, saying why', async () => {
  const r = f.releases.add('1.0.0');
  f.runner.behaviour.set('1.0.0', 'fail-start');
  const rt = await f.load();
  await rt.activate(req(r), recorder().emit);
  assert.equal(rt.state, 'stopped');
  assert.match(rt.stateReason, /activation of 1\.0\.0 failed: could not start 1\.0\.0: cannot exec/);
  assert.equal(rt.persistedState.desired, null);
});

test('a second activation while one is in progress is refused', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const rt = await running(v1);
  f.runner.behaviour.set('1.1.0', 'wait');
  const startedNext = f.runner.nextStart();
  const first = rt.activate(req(v2), recorder().emit);
  const next = await startedNext;
  await assert.rejects(rt.activate(req(v1, { restart: true }), recorder().emit), /already in progress/);
  next.ready();
  await first;
  assert.equal(rt.runningRelease?.version, '1.1.0');
});

test('a crash: backoff for the policy\'s delay, then the same release is started again', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await running(r);
  const restarts: string[] = [];
  f.events.on('restart', (e) => restarts.push(e.reason));
  proc(rt).crash(1);
  await until(() => rt.state === 'backoff', 'backoff');
  assert.match(rt.stateReason, /exited with code 1; crashed 1 time\(s\) in a row: restarting in 100 ms/);
  assert.deepEqual(f.clock.waiting, { count: 1, nextInMs: 100 });
  assert.equal(restarts.length, 1);
  const next = f.runner.nextStart();
  f.clock.advance(99);
  assert.equal(rt.state, 'backoff', 'not before its time');
  f.clock.advance(1);
  const p = await next;
  await until(() => rt.state === 'running', 'running again');
  assert.equal(rt.running, p);
  assert.equal(p.version, '1.0.0');
  await until(() => stateFile().restarts === 1, 'the restart counted in state.json');
});

test('a restarted version that is not ready counts as a crash: stopped, and backoff again', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await running(r);
  f.runner.behaviour.set('1.0.0', 'wait');
  proc(rt).crash(1);
  await until(() => rt.state === 'backoff', 'backoff');
  const next = f.runner.nextStart();
  f.clock.advance(100);
  const p = await next;
  await p.readinessAsked;
  assert.equal(rt.state, 'starting');
  p.failReady('no READY=1 within 30 s');
  await until(() => rt.state === 'backoff', 'backoff after the unready start');
  assert.deepEqual(p.signals, ['SIGTERM']);
  assert.match(rt.stateReason, /^no READY=1 within 30 s; crashed 2 time\(s\) in a row: restarting in 150 ms/);
});

/** Crashes the running version until the runtime gives up on it (max_restarts 2: the third crash is a loop). */
async function crashUntilLoop(rt: AppRuntime): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const p = proc(rt);
    const next = f.runner.nextStart();
    p.crash(1);
    if (i === 2) break;
    await until(() => rt.state === 'backoff', 'backoff');
    f.clock.advance(f.clock.waiting.nextInMs ?? 0);
    await next;
    await until(() => rt.state === 'running', 'running again');
  }
}

test('a crash loop right after an activation rolls back to the rollback target on its own', async () => {
  const restart = { max_restarts: 2, min_healthy_s: 60 };
  const v1 = f.releases.add('1.0.0', { ...HOT, restart });
  const v2 = f.releases.add('1.1.0', { ...HOT, restart });
  const rt = await running(v1);
  await rt.activate(req(v2), recorder().emit);
  f.clock.advance(5_000);
  await crashUntilLoop(rt);
  await until(() => rt.runningRelease?.version === '1.0.0' && rt.state === 'running', 'the rollback to 1.0.0');
  const last = rt.persistedState.history.at(-1);
  assert.equal(last?.reason, 'auto_rollback');
  assert.equal(last?.requested_by, 'slipway-agent');
  assert.match(last?.message ?? '', /^crash loop of 1\.1\.0: exited with code 1; 3 crashes within 60 s/);
  assert.deepEqual(rt.persistedState.stack.map((a) => a.version), ['1.0.0']);
  assert.ok(f.transitions.includes('running>crashloop'));
});

test('a crash loop after min_healthy_s stays in crashloop until an operator acts', async () => {
  const restart = { max_restarts: 2, min_healthy_s: 60 };
  const v1 = f.releases.add('1.0.0', { ...HOT, restart });
  const v2 = f.releases.add('1.1.0', { ...HOT, restart });
  const rt = await running(v1);
  await rt.activate(req(v2), recorder().emit);
  f.clock.advance(61_000);
  await crashUntilLoop(rt);
  await until(() => rt.state === 'crashloop', 'crashloop');
  assert.equal(rt.running, undefined);
  assert.equal(f.clock.waiting.count, 0, 'no restart pending');
  assert.equal(rt.persistedState.desired?.version, '1.1.0');
  await rt.reconcile();
  assert.equal(rt.state, 'crashloop', 'reconcile leaves a crash loop alone');
  assert.equal(f.runner.live().length, 0);
});

test('reconcile after an agent restart re-attaches to the running version: same pid, nothing started', async () => {
  const r = f.releases.add('1.0.0');
  const before = await running(r);
  const pid = proc(before).pid;
  before.detach();
  f.restartAgent();
  const rt = await f.load();
  assert.equal(rt.state, 'stopped');
  await rt.reconcile();
  assert.equal(rt.state, 'running');
  assert.equal(rt.running?.pid, pid);
  assert.equal(f.runner.specs.length, 0, 'nothing was started');
});

test('reconcile after an agent restart: the desired release is started when nothing runs; a leftover version is stopped', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const before = await running(v1);
  // An activation interrupted by the agent's death: 1.1.0 runs beside, 1.0.0 has crashed meanwhile.
  f.runner.behaviour.set('1.1.0', 'wait');
  const startedLeftover = f.runner.nextStart();
  const interrupted = before.activate(req(v2), recorder().emit);
  const leftover = await startedLeftover;
  before.detach();
  proc(before).crash(1);
  f.restartAgent();
  const rt = await f.load();
  const started = f.runner.nextStart();
  await rt.reconcile();
  assert.deepEqual(leftover.signals, ['SIGTERM']);
  assert.equal((await started).version, '1.0.0');
  assert.equal(rt.state, 'running');
  assert.equal(rt.runningRelease?.version, '1.0.0');
  await interrupted; // the dead agent's runtime, for the test's sake: it saw its new version exit
});

test('the old process ending while reconcile starts the desired release again is no crash of the new start', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await running(r);
  const old = proc(rt);
  f.runner.loseSupervisor();
  f.runner.behaviour.set('1.0.0', 'wait');
  const started = f.runner.nextStart();
  const reconciled = rt.reconcile();
  const next = await started;
  old.crash(1); // the dead supervisor's process is ended meanwhile
  await next.readinessAsked;
  next.ready();
  await reconciled;
  assert.equal(rt.state, 'running');
  assert.equal(rt.running, next);
  assert.equal(f.clock.waiting.count, 0, 'no restart pending');
  assert.equal(rt.persistedState.restarts, 0);
});

test('an operator\'s stop: the app stops and stays stopped through reconcile; start brings the desired release back', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await running(r);
  const old = proc(rt);
  const rec = recorder();
  await rt.stopApp(rec.emit, 'ann');
  assert.deepEqual(old.signals, ['SIGTERM']);
  assert.equal(rt.state, 'stopped');
  assert.equal(rt.stateReason, 'stopped by ann');
  assert.deepEqual(rec.names(), ['draining', 'done']);
  assert.equal(stateFile().stopped, true);
  await rt.reconcile();
  assert.equal(rt.state, 'stopped');
  assert.equal(f.runner.live().length, 0, 'reconcile started nothing');
  const started = recorder();
  await rt.startApp(started.emit);
  assert.equal(rt.state, 'running');
  assert.deepEqual(started.names(), ['starting', 'ready', 'done']);
  assert.equal(stateFile().stopped, false);
  assert.notEqual(rt.running, old);
});

test('an operator\'s start that is not ready, or cannot start, ends stopped with the reason', async () => {
  const r = f.releases.add('1.0.0');
  const rt = await running(r);
  await rt.stopApp(recorder().emit, 'ann');
  f.runner.behaviour.set('1.0.0', 'crash');
  const rec = recorder();
  await rt.startApp(rec.emit);
  assert.equal(rt.state, 'stopped');
  assert.match(rt.stateReason, /^start failed: the new version exited with code 3 before it was ready/);
  assert.equal(rec.events.at(-1)?.event, 'failed');
  assert.equal(f.clock.waiting.count, 0, 'an operator\'s failed start is not restarted');
  f.runner.behaviour.set('1.0.0', 'fail-start');
  await rt.startApp(recorder().emit);
  assert.equal(rt.state, 'stopped');
  assert.match(rt.stateReason, /^start failed: cannot exec node server\.js/);
});

test('activating the release that runs is a no-op; a restart onto it swaps and enters the history only', async () => {
  const r = f.releases.add('1.0.0', HOT);
  const rt = await running(r);
  const pid = proc(rt).pid;
  const rec = recorder();
  await rt.activate(req(r), rec.emit);
  assert.deepEqual(rec.names(), ['done']);
  assert.equal(rt.running?.pid, pid);
  await rt.activate(req(r, { reason: 'restart', restart: true }), recorder().emit);
  assert.notEqual(rt.running?.pid, pid);
  assert.equal(rt.persistedState.stack.length, 1);
  assert.equal(rt.persistedState.history.at(-1)?.reason, 'restart');
});
