// Recovery after an agent was killed in the middle of a hot swap, with the
// in-memory runner (test/helpers/fake-runner.ts): the disk (state.json,
// `current`) as the dead agent left it at each step, the processes its
// supervising process still runs, and a new runtime's reconcile. Also the
// order of a swap's last steps, which is what makes recovery possible: the
// new release is recorded before the old one gets its stop signal.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { AppPaths } from '../../agent/paths.js';
import { emptyState, writeState, type AppState, type ProcessRecord } from '../../agent/runtime/state.js';
import { planRecovery as plan } from '../../agent/runtime/recovery-plan.js';
import { RuntimeFixture, recorder, until, APP } from '../helpers/runtime-fixture.js';
import type { FakeProcess } from '../helpers/fake-runner.js';
import type { Release } from '../../agent/storage/releases.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const HOT = { listen: [{ name: 'http', port: 4000 }] };
const paths = () => new AppPaths(f.dir, APP);
const stateFile = () => JSON.parse(readFileSync(paths().state, 'utf8')) as AppState;

/** A process of r that the (dead agent's) supervising process runs. */
async function running(r: Release, ready = true): Promise<FakeProcess> {
  if (!ready) f.runner.behaviour.set(r.version, 'wait');
  const p = (await f.runner.start({ app: APP, version: r.version, sha256: r.sha256, releaseDir: r.dir, command: ['x'], env: {}, sockets: [], logDir: '', logBytes: 1, logFiles: 1 })) as FakeProcess;
  f.runner.behaviour.delete(r.version);
  return p;
}

const rec = (p: FakeProcess, drain?: { sentAt: number }): ProcessRecord => ({
  version: p.version, sha256: p.sha256, pid: p.pid, start_ticks: p.startTicks, started_at: p.startedAt.toISOString(),
  ...(drain ? { stop_sent_at: new Date(drain.sentAt).toISOString(), drain_deadline: new Date(drain.sentAt + 30_000).toISOString() } : {}),
});

const activation = (r: Release) => ({ version: r.version, sha256: r.sha256, at: new Date(f.clock.now()).toISOString(), strategy: 'hot', reason: 'deploy', result: 'done' as const, message: 'hot in 0.5 s', requested_by: 'ann' });

/** state.json as the dead agent left it: `desired` activated (on top of `below`), these processes recorded, maybe an activation in progress. */
async function leftState(desired: Release, processes: ProcessRecord[], activating?: Release, below?: Release): Promise<void> {
  const s: AppState = {
    ...emptyState(APP), desired: { version: desired.version, sha256: desired.sha256 },
    stack: [...(below ? [activation(below)] : []), activation(desired)], processes,
    activating: activating ? { version: activating.version, sha256: activating.sha256, at: new Date(f.clock.now()).toISOString(), strategy: 'hot', reason: 'deploy', requested_by: 'ann', undo: false, restart: false } : null,
  };
  await writeState(paths().state, s);
}

test('a hot swap records the new release (state.json and current) before the old version gets its stop signal', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const rt = await f.load();
  await rt.activate({ version: v1.version, sha256: v1.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false }, recorder().emit);
  const old = rt.running as FakeProcess;
  let seen: { desired?: string; current: string; draining?: boolean } | undefined;
  const stop = old.stop.bind(old);
  old.stop = (signal, ms) => {
    const s = stateFile();
    seen = { desired: s.desired?.version, current: readlinkSync(paths().current), draining: s.processes.find((p) => p.pid === old.pid)?.stop_sent_at !== undefined };
    return stop(signal, ms);
  };
  const rec2 = recorder();
  await rt.activate({ version: v2.version, sha256: v2.sha256, strategy: '', reason: 'deploy', requested_by: 'ann', undo: false }, rec2.emit);
  assert.deepEqual(old.signals, ['SIGTERM']);
  assert.equal(seen?.desired, '1.1.0', 'state.json named the new release when the old one was signalled');
  assert.match(seen?.current ?? '', /^releases\/1\.1\.0-/);
  assert.equal(seen?.draining, true, 'and recorded the old one as draining');
  assert.deepEqual(rec2.names(), ['starting', 'ready', 'draining', 'done']);
  assert.equal(stateFile().activating, null);
});

test('killed after the old version\'s stop signal but before the state write: the new one, ready and serving, stays and the swap is finished', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const draining = await running(v1); // draining since its stop signal, recorded
  const next = await running(v2);
  await leftState(v1, [rec(draining, { sentAt: f.clock.now() }), rec(next)], v2);
  const rt = await f.load();
  await rt.reconcile();
  assert.equal(rt.state, 'running');
  assert.equal(rt.running, next, 'the serving new version is kept');
  assert.deepEqual(next.signals, []);
  assert.deepEqual(draining.signals, [], 'the draining one is not signalled again, nor adopted');
  assert.equal(f.runner.specs.length, 2, 'nothing was started');
  const s = stateFile();
  assert.equal(s.desired?.version, '1.1.0');
  assert.deepEqual(s.stack.map((a) => a.version), ['1.0.0', '1.1.0']);
  assert.match(s.history.at(-1)?.message ?? '', /finished by the agent after its restart/);
  assert.equal(s.activating, null);
  assert.match(readlinkSync(paths().current), /^releases\/1\.1\.0-/);
  assert.ok(s.processes.find((p) => p.pid === draining.pid)?.stop_sent_at, 'still recorded as draining');
});

test('killed between the new version\'s ready and the state write: the old one, recorded and serving, stays; the new one drains', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const old = await running(v1);
  const next = await running(v2);
  await leftState(v1, [rec(old), rec(next)], v2);
  const rt = await f.load();
  await rt.reconcile();
  assert.equal(rt.running, old);
  assert.deepEqual(old.signals, []);
  assert.deepEqual(next.signals, ['SIGTERM']);
  assert.equal(stateFile().desired?.version, '1.0.0');
  assert.equal(stateFile().activating, null);
  assert.match(stateFile().history.at(-1)?.message ?? '', /^interrupted: the agent stopped before the activation of 1\.1\.0 was recorded/);
  assert.equal(f.activations.at(-1)?.result, 'failed');
  assert.equal(f.runner.specs.length, 2, 'nothing was started');
});

test('killed after the state write: the new release serves; the old one drains on, not signalled again, and is killed at its recorded deadline if it outlives it', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const old = await running(v1);
  const next = await running(v2);
  await leftState(v2, [rec(old, { sentAt: f.clock.now() }), rec(next)], undefined, v1);
  const rt = await f.load();
  await rt.reconcile();
  assert.equal(rt.running, next);
  assert.deepEqual(old.signals, []);
  assert.ok(old.running());
  await rt.reconcile();
  assert.deepEqual(old.signals, [], 'a reconcile on the schedule leaves it alone too');
  f.clock.advance(30_000);
  await until(() => !old.running(), 'the old one killed at its deadline');
  assert.deepEqual(old.signals, ['SIGKILL']);
  assert.equal(rt.running, next);
  await until(() => !stateFile().processes.some((p) => p.pid === old.pid), 'state.json to forget it');
});

test('nothing serves the desired release: it is started before the leftover is signalled', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const leftover = await running(v2, false);
  await leftState(v1, [rec(leftover)], v2);
  const rt = await f.load();
  f.runner.behaviour.set('1.0.0', 'wait');
  const started = f.runner.nextStart();
  const done = rt.reconcile();
  const p = await started;
  await p.readinessAsked;
  assert.deepEqual(leftover.signals, [], 'not before the desired release is up');
  p.ready();
  await done;
  assert.equal(rt.running, p);
  assert.deepEqual(leftover.signals, ['SIGTERM']);
});

test('a serving process that exits because another agent asked (before a kill) counts as a crash and is restarted', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const p = await running(v1);
  await leftState(v1, [rec(p)]);
  const rt = await f.load();
  await rt.reconcile();
  assert.equal(rt.running, p);
  const next = f.runner.nextStart();
  await p.stop('SIGTERM', 10_000); // requested, but not by this runtime
  await until(() => rt.state === 'backoff', 'backoff');
  f.clock.advance(f.clock.waiting.nextInMs ?? 0);
  assert.equal((await next).version, '1.0.0');
});

test('planRecovery: draining is never kept; the desired release serves; an interrupted activation is finished only when the desired one is gone', () => {
  const a = { version: '1.0.0', sha256: 'a'.repeat(64) };
  const b = { version: '1.1.0', sha256: 'b'.repeat(64) };
  const pending = { ...b, at: '', strategy: 'hot', reason: 'deploy', requested_by: 'ann', undo: false, restart: false };
  const proc = (pid: number, r: typeof a, draining = false) => ({ ...r, pid, startedAt: pid, draining });
  // Why each one is ended is for the log (in-place-upgrade.test.ts checks the words).
  const planRecovery = (...a: Parameters<typeof plan>) => { const { why: _why, ...rest } = plan(...a); return rest; };
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: pending }, [proc(1, a, true), proc(2, b)]), { finish: 2, start: false, end: [], draining: [1] });
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: pending }, [proc(1, a), proc(2, b)]), { keep: 1, start: false, end: [2], draining: [] });
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: null }, [proc(1, a, true), proc(2, b)]), { start: true, end: [2], draining: [1] });
  assert.deepEqual(planRecovery({ desired: a, stopped: true, activating: null }, [proc(1, a)]), { start: false, end: [1], draining: [] });
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: null }, [proc(3, a), proc(1, a)]), { keep: 1, start: false, end: [3], draining: [] });
});

test('killed after the swap was recorded but before the host\'s history had it: the entry is written at recovery, once', async () => {
  const v1 = f.releases.add('1.0.0', HOT);
  const v2 = f.releases.add('1.1.0', HOT);
  const old = await running(v1);
  const next = await running(v2);
  await leftState(v2, [rec(old, { sentAt: f.clock.now() }), rec(next)], undefined, v1);
  const s = stateFile();
  s.activating = { version: v2.version, sha256: v2.sha256, at: new Date(f.clock.now()).toISOString(), strategy: 'hot', reason: 'deploy', requested_by: 'ann', undo: false, restart: false, done: { from: '1.0.0', message: 'hot in 0.07 s', seconds: 0.07 } };
  await writeState(paths().state, s);
  const rt = await f.load();
  await rt.reconcile();
  assert.equal(rt.running, next);
  assert.equal(stateFile().activating, null);
  assert.deepEqual(f.activations.map((a) => [a.version, a.result, a.from]), [['1.1.0', 'done', '1.0.0']]);
  assert.match(f.activations[0]!.message, /^hot in 0\.07 s \(written to the history after the agent's restart\)$/);
  assert.equal(stateFile().history.filter((r) => r.result === 'failed').length, 0, 'not counted as interrupted');
  await rt.reconcile();
  assert.equal(f.activations.length, 1, 'written once');
});
