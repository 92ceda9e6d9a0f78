// The bookkeeping of an in-place upgrade (`upgrade: [cmd]`, an Erlang relup):
// once the command succeeds, the agent believes the same process runs the
// new release (state.json, status, metrics, the stack), and keeps believing
// it through a reconcile and an agent restart; a rollback runs the command
// downwards and is recorded the same way; a restart to apply settings is a
// real restart; a version probe that disagrees fails the activation and
// changes no record. With the in-memory runner (fake-runner.ts) and real
// commands (sh).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPaths } from '../../agent/paths.js';
import { planRecovery } from '../../agent/runtime/recovery-plan.js';
import { chooseStrategy } from '../../agent/runtime/strategies/index.js';
import { RuntimeFixture, recorder, APP } from '../helpers/runtime-fixture.js';
import type { AppState } from '../../agent/runtime/state.js';
import type { AppRuntime } from '../../agent/runtime/app-runtime.js';
import type { Release } from '../../agent/storage/releases.js';
import type { FakeProcess } from '../helpers/fake-runner.js';

let f: RuntimeFixture;
beforeEach(() => { f = new RuntimeFixture(); });
afterEach(() => f.cleanup());

const stateFile = () => JSON.parse(readFileSync(new AppPaths(f.dir, APP).state, 'utf8')) as AppState;

/** A release whose upgrade command appends "{version} $SLIPWAY_FROM_VERSION" to a log, and whose probe prints what the log's last line says. */
function relupRelease(version: string, extra: Record<string, unknown> = {}): Release {
  const log = join(f.dir, 'relup.log');
  return f.releases.add(version, {
    listen: [{ name: 'http', port: 4000 }],
    upgrade: ['sh', '-c', `echo "$0 $SLIPWAY_FROM_VERSION" >> ${log}`, '{version}'],
    version_probe: ['sh', '-c', `tail -n 1 ${log} | cut -d' ' -f1`],
    ...extra,
  });
}

async function activate(rt: AppRuntime, r: Release, more: { undo?: boolean; restart?: boolean } = {}) {
  const rec = recorder();
  await rt.activate({ version: r.version, sha256: r.sha256, strategy: '', reason: more.undo ? 'rollback' : more.restart ? 'restart' : 'deploy', requested_by: 'ann', undo: more.undo ?? false, restart: more.restart }, rec.emit);
  return rec;
}

test('after a successful upgrade command the same process is recorded as the new release, everywhere', async () => {
  const v1 = relupRelease('1.0.0');
  const v2 = relupRelease('1.1.0');
  const rt = await f.load();
  const first = await activate(rt, v1);
  assert.equal(f.activations[0].strategy, 'restart', 'a first deploy is a plain start, and says so');
  assert.match(first.events.at(-1)?.message ?? '', /restart took/);
  const proc = rt.running as FakeProcess;
  const up = await activate(rt, v2);
  assert.deepEqual(up.names().at(-1), 'done', JSON.stringify(up.events));
  assert.equal(rt.running, proc, 'the same process');
  assert.equal(rt.runningRelease?.version, '1.1.0');
  const s = stateFile();
  assert.deepEqual(s.desired, { version: '1.1.0', sha256: v2.sha256 });
  assert.deepEqual(s.processes.map((p) => [p.pid, p.version, p.sha256, p.started_as?.version]), [[proc.pid, '1.1.0', v2.sha256, '1.0.0']]);
  assert.deepEqual(s.stack.map((e) => e.version), ['1.0.0', '1.1.0']);
  assert.equal(s.history.at(-1)?.strategy, 'command');
  assert.match(s.history.at(-1)?.message ?? '', /^upgrade command in/);
  assert.equal(f.activations.at(-1)?.from, '1.0.0');
  assert.equal(readFileSync(join(f.dir, 'relup.log'), 'utf8'), '1.1.0 1.0.0\n');

  await rt.reconcile();
  assert.equal(rt.running, proc, 'a reconcile keeps it');
  assert.deepEqual(proc.signals, []);
  assert.equal(f.runner.started.length, 1, 'nothing cold-started');

  // An agent restart: a new runtime from state.json, the supervising process still knowing the process as 1.0.0.
  rt.detach();
  f.restartAgent();
  const rt2 = await f.load();
  await rt2.reconcile();
  assert.equal(rt2.running?.pid, proc.pid, 'an agent restart keeps it');
  assert.equal(rt2.runningRelease?.version, '1.1.0');
  assert.equal(rt2.state, 'running');
  assert.deepEqual(proc.signals, []);
  assert.equal(stateFile().processes[0].version, '1.1.0');

  // Rollback: the command runs downwards in the same process, recorded the same way.
  const back = await activate(rt2, v1, { undo: true });
  assert.equal(back.names().at(-1), 'done', JSON.stringify(back.events));
  assert.equal(rt2.running?.pid, proc.pid);
  assert.equal(rt2.runningRelease?.version, '1.0.0');
  assert.equal(readFileSync(join(f.dir, 'relup.log'), 'utf8'), '1.1.0 1.0.0\n1.0.0 1.1.0\n');
  const after = stateFile();
  assert.deepEqual(after.stack.map((e) => e.version), ['1.0.0']);
  assert.deepEqual(after.processes.map((p) => [p.pid, p.version, p.started_as]), [[proc.pid, '1.0.0', undefined]]);
  await rt2.reconcile();
  assert.deepEqual(proc.signals, []);
  rt2.detach();
});

test('a restart of an app with an upgrade command is a real restart (a hot swap on held sockets), so changed settings reach the process', async () => {
  const v1 = relupRelease('1.0.0');
  const rt = await f.load();
  await activate(rt, v1);
  const old = rt.running as FakeProcess;
  const r = await activate(rt, v1, { restart: true });
  assert.equal(r.names().at(-1), 'done');
  assert.notEqual(rt.running, old, 'a new process');
  assert.equal(f.activations.at(-1)?.strategy, 'hot');
  assert.deepEqual(old.signals, ['SIGTERM']);
  assert.throws(() => readFileSync(join(f.dir, 'relup.log')), /ENOENT/, 'the upgrade command did not run');
  assert.equal(chooseStrategy('', v1.manifest.run, true).name, 'hot');
  const noSockets = f.releases.add('9.0.0', { upgrade: ['true'] });
  assert.equal(chooseStrategy('', noSockets.manifest.run, true).name, 'restart');
  assert.equal(chooseStrategy('', noSockets.manifest.run).name, 'command');
  rt.detach();
});

test('an upgrade command that exits 0 but leaves the node on another version (run.version_probe): failed, with the output; no record moves', async () => {
  const v1 = relupRelease('1.0.0');
  const v2 = relupRelease('1.1.0', { version_probe: ['sh', '-c', 'echo checking; echo 1.0.0'] });
  const rt = await f.load();
  await activate(rt, v1);
  const proc = rt.running as FakeProcess;
  const before = stateFile();
  const r = await activate(rt, v2);
  assert.equal(r.names().at(-1), 'failed');
  const failed = r.events.at(-1);
  assert.match(failed?.message ?? '', /the app reports version "1\.0\.0", not 1\.1\.0 \(run\.version_probe\); the records keep 1\.0\.0/);
  assert.deepEqual(failed?.output, ['checking', '1.0.0']);
  assert.equal(rt.running, proc);
  assert.equal(rt.runningRelease?.version, '1.0.0');
  const s = stateFile();
  assert.deepEqual(s.desired, before.desired);
  assert.deepEqual(s.stack, before.stack);
  assert.deepEqual(s.processes.map((p) => [p.version, p.started_as]), [['1.0.0', undefined]]);
  assert.equal(s.history.at(-1)?.result, 'failed');
  await rt.reconcile();
  assert.deepEqual(proc.signals, [], 'it serves on');
  rt.detach();
});

test('a version probe that fails, and an upgrade command that fails: reported, the old version serves, the records stay', async () => {
  const v1 = relupRelease('1.0.0');
  const v2 = relupRelease('1.1.0', { version_probe: ['sh', '-c', 'echo nodedown >&2; exit 3'] });
  const v3 = relupRelease('1.2.0', { upgrade: ['sh', '-c', 'echo "{error,{no_such_release,\\"1.2.0\\"}}"; exit 1'] });
  const rt = await f.load();
  await activate(rt, v1);
  const proc = rt.running as FakeProcess;
  const r2 = await activate(rt, v2);
  assert.match(r2.events.at(-1)?.message ?? '', /run\.version_probe sh -c .* exited with code 3/);
  assert.deepEqual(r2.events.at(-1)?.output, ['nodedown']);
  const r3 = await activate(rt, v3);
  assert.match(r3.events.at(-1)?.message ?? '', /exited with code 1; 1\.0\.0 keeps running/);
  assert.deepEqual(r3.events.at(-1)?.output, ['{error,{no_such_release,"1.2.0"}}']);
  assert.equal(rt.running, proc);
  assert.deepEqual(stateFile().processes.map((p) => p.version), ['1.0.0']);
  assert.deepEqual(stateFile().stack.map((e) => e.version), ['1.0.0']);
  rt.detach();
});

test('a state.json that says nothing of an upgrade is not overruled by a stray started_as', async () => {
  const v1 = relupRelease('1.0.0');
  const rt = await f.load();
  await activate(rt, v1);
  const proc = rt.running as FakeProcess;
  const s = stateFile();
  // A record that names a different start release than the supervisor knows: ignored (the supervisor's word stands).
  s.processes[0] = { ...s.processes[0], version: '7.0.0', sha256: 'f'.repeat(64), started_as: { version: '6.0.0', sha256: 'e'.repeat(64) } };
  writeFileSync(new AppPaths(f.dir, APP).state, JSON.stringify(s));
  rt.detach();
  f.restartAgent();
  const rt2 = await f.load();
  await rt2.reconcile();
  assert.equal(rt2.running?.pid, proc.pid);
  assert.equal(rt2.runningRelease?.version, '1.0.0');
  rt2.detach();
});

test('planRecovery says why each process it ends goes', () => {
  const a = { version: '1.0.0', sha256: 'a'.repeat(64) };
  const b = { version: '1.1.0', sha256: 'b'.repeat(64) };
  const proc = (pid: number, r: typeof a, draining = false) => ({ ...r, pid, startedAt: pid, draining });
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: null }, [proc(1, a), proc(2, b), proc(3, a), proc(4, b, true)]).why, {
    2: '1.1.0 is not the desired release 1.0.0, which serves in pid 1 (left by an activation that was never recorded)',
    3: 'a second process of 1.0.0, started after pid 1, which serves (a restart that was never recorded)',
  });
  assert.deepEqual(planRecovery({ desired: a, stopped: true, activating: null }, [proc(1, a)]).why, { 1: 'the app is stopped by an operator, and 1.0.0 (pid 1) still ran' });
  assert.deepEqual(planRecovery({ desired: a, stopped: false, activating: null }, [proc(2, b)]).why, { 2: '1.1.0 is not the desired release 1.0.0, which is started in its place' });
});
