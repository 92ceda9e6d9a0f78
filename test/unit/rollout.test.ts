// The executor of deploys, rollbacks and restarts against an in-memory fleet
// (test/helpers/fake-fleet.ts): batches in order, the concurrency bound, the
// pause between batches, revert on failure (a deploy's and a rollback's),
// Ctrl-C after a batch, and the events it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRollout, activationStep, type Rollout, type HostStep } from '../../coordinator/rollout/executor.js';
import { deploy } from '../../coordinator/rollout/deploy.js';
import { inspectHosts, rollback } from '../../coordinator/rollout/rollback.js';
import { planRollback } from '../../coordinator/plans.js';
import type { RolloutEvent } from '../../coordinator/rollout/events.js';
import type { LocalRelease } from '../../coordinator/release-file.js';
import { FakeFleet, rel } from '../helpers/fake-fleet.js';

const V1 = rel('1.0.0');
const V2 = rel('1.1.0');
const V3 = rel('1.2.0');

function deployRollout(fleet: FakeFleet, over: Partial<Rollout> = {}): Rollout {
  const to = { ...V2, undo: false };
  return {
    app: 'hello', name: 'deploy', batch: 1, pauseS: 0, revert: 'all', strategy: '', requestedBy: 't', timeoutMs: 1000,
    steps: fleet.connections.map((c): HostStep => activationStep(c.host, c.current ?? null, to, 'deploy')),
    ...over,
  };
}

function recorder() {
  const events: RolloutEvent[] = [];
  return { events, emit: (e: RolloutEvent) => { events.push(e); }, of: <T extends RolloutEvent['type']>(t: T) => events.filter((e): e is Extract<RolloutEvent, { type: T }> => e.type === t) };
}

const release = (r = V2): LocalRelease => ({ app: 'hello', version: r.version, sha256: r.sha256, file: '/nowhere.tar.gz', size: 1234, notes: [] });

test('batches run one after another, in the config\'s order, each host once', async () => {
  const fleet = new FakeFleet(5);
  for (const h of fleet.connections) h.present.push(V2);
  const r = recorder();
  const report = await runRollout(deployRollout(fleet, { batch: 2 }), fleet, { emit: r.emit });
  assert.deepEqual(report.batches, [['h1', 'h2'], ['h3', 'h4'], ['h5']]);
  assert.deepEqual(r.of('batch_started').map((e) => [e.index, e.count, e.hosts]), [[0, 3, ['h1', 'h2']], [1, 3, ['h3', 'h4']], [2, 3, ['h5']]]);
  // A batch starts only when the one before has finished: every host of batch n reports before batch n+1 starts.
  const order = r.events.flatMap((e) => (e.type === 'batch_started' ? [`batch ${e.index}`] : e.type === 'host_result' ? [e.host] : []));
  assert.deepEqual(order.map((x) => (x.startsWith('batch') ? x : 'host')), ['batch 0', 'host', 'host', 'batch 1', 'host', 'host', 'batch 2', 'host']);
  assert.deepEqual([new Set(order.slice(1, 3)), new Set(order.slice(4, 6)), order[7]], [new Set(['h1', 'h2']), new Set(['h3', 'h4']), 'h5']);
  assert.deepEqual(fleet.versions(), ['1.1.0', '1.1.0', '1.1.0', '1.1.0', '1.1.0']);
  assert.deepEqual([...report.results.values()], ['switched', 'switched', 'switched', 'switched', 'switched']);
  assert.deepEqual(report.reverted, []);
});

test('within a batch, at most `concurrency` hosts are moved at once', async () => {
  const fleet = new FakeFleet(7, 3);
  for (const h of fleet.connections) h.present.push(V2);
  await runRollout(deployRollout(fleet, { batch: '100%' }), fleet, { emit: () => undefined });
  assert.equal(fleet.maxInFlight, 3);
  assert.deepEqual(fleet.versions(), Array(7).fill('1.1.0'));
  // Unbounded, all seven would have been in flight together: the fake does not finish a call before the others start.
  const wide = new FakeFleet(7, 100);
  for (const h of wide.connections) h.present.push(V2);
  await runRollout(deployRollout(wide, { batch: '100%' }), wide, { emit: () => undefined });
  assert.equal(wide.maxInFlight, 7);
});

test('pause_s: a pause between batches, none after the last', async () => {
  const fleet = new FakeFleet(3);
  for (const h of fleet.connections) h.present.push(V2);
  const pauses: number[] = [];
  await runRollout(deployRollout(fleet, { pauseS: 5 }), fleet, { emit: () => undefined, sleep: async (ms) => { pauses.push(ms); fleet.log.push('pause'); } });
  assert.deepEqual(pauses, [5000, 5000]);
  assert.deepEqual(fleet.log, ['h1 activate 1.1.0 (deploy)', 'pause', 'h2 activate 1.1.0 (deploy)', 'pause', 'h3 activate 1.1.0 (deploy)']);
});

test('a deploy whose 3rd host fails: the rollout stops, hosts 1 and 2 are put back (popped), 4 is not reached', async () => {
  const fleet = new FakeFleet(4);
  for (const h of fleet.connections) h.present.push(V2);
  fleet.host('h3').failsToStart.add('1.1.0');
  const r = recorder();
  const report = await runRollout(deployRollout(fleet), fleet, { emit: r.emit });
  assert.deepEqual(Object.fromEntries(report.results), { h1: 'switched', h2: 'switched', h3: 'failed', h4: 'not_reached' });
  assert.deepEqual(report.reverted, ['h1', 'h2']);
  assert.deepEqual(r.of('revert_started').map((e) => [e.hosts, e.revert]), [[['h1', 'h2'], 'all']]);
  assert.deepEqual(fleet.log, [
    'h1 activate 1.1.0 (deploy)', 'h2 activate 1.1.0 (deploy)', 'h3 activate 1.1.0 (deploy)',
    'h1 activate 1.0.0 undo (revert)', 'h2 activate 1.0.0 undo (revert)',
  ]);
  assert.deepEqual(fleet.versions(), ['1.0.0', '1.0.0', '1.0.0', '1.0.0']);
  // The revert popped the failed deploy: each stack is what it was.
  for (const h of fleet.connections) assert.deepEqual(h.stack, [V1]);
  assert.deepEqual(r.of('host_result').filter((e) => e.phase === 'revert').map((e) => [e.host, e.ok]), [['h1', true], ['h2', true]]);
});

test('revert: batch puts back only the failed batch\'s switched hosts', async () => {
  const fleet = new FakeFleet(4);
  for (const h of fleet.connections) h.present.push(V2);
  fleet.host('h4').failsToStart.add('1.1.0');
  const report = await runRollout(deployRollout(fleet, { batch: 2, revert: 'batch' }), fleet, { emit: () => undefined });
  assert.deepEqual(report.reverted, ['h3']);
  assert.deepEqual(fleet.versions(), ['1.1.0', '1.1.0', '1.0.0', '1.0.0']);
});

test('a host that ran nothing before cannot be put back: its revert fails and says why', async () => {
  const fleet = new FakeFleet(2, 8, []);
  for (const h of fleet.connections) h.present.push(V2);
  fleet.host('h2').failsToStart.add('1.1.0');
  const r = recorder();
  await runRollout(deployRollout(fleet), fleet, { emit: r.emit });
  const back = r.of('host_result').filter((e) => e.phase === 'revert');
  assert.deepEqual(back.map((e) => [e.host, e.ok, e.error?.message]), [['h1', false, 'ran nothing before this deploy, so there is nothing to put back']]);
});

test('an unreachable host fails its step with the reason; the rollout stops there', async () => {
  const fleet = new FakeFleet(3);
  for (const h of fleet.connections) h.present.push(V2);
  fleet.host('h2').unreachable = true;
  const r = recorder();
  const report = await runRollout(deployRollout(fleet), fleet, { emit: r.emit });
  const h2 = r.of('host_result').find((e) => e.host === 'h2');
  assert.deepEqual([h2?.ok, h2?.callFailed, h2?.error], [false, true, { code: 'SLIPWAY_ERR_HOST_UNREACHABLE', message: 'unreachable: connection refused', unreachable: true }]);
  assert.equal(report.results.get('h3'), 'not_reached');
  assert.deepEqual(fleet.versions(), ['1.0.0', '1.0.0', '1.0.0']);
});

test('Ctrl-C: the rollout stops after the batch that was running; nothing is put back', async () => {
  const fleet = new FakeFleet(4);
  for (const h of fleet.connections) h.present.push(V2);
  let pressed = false;
  const r = recorder();
  const report = await runRollout(deployRollout(fleet, { batch: 2 }), fleet, {
    emit: (e) => { r.emit(e); if (e.type === 'host_started') pressed = true; },
    interrupted: () => pressed,
  });
  assert.equal(report.interrupted, true);
  assert.equal(r.of('interrupted').length, 1);
  assert.deepEqual(Object.fromEntries(report.results), { h1: 'switched', h2: 'switched', h3: 'not_reached', h4: 'not_reached' });
  assert.deepEqual(report.reverted, []);
  assert.deepEqual(fleet.versions(), ['1.1.0', '1.1.0', '1.0.0', '1.0.0']);
});

test('restart: Control on every host in one batch, a failure does not stop the others, nothing to put back', async () => {
  const fleet = new FakeFleet(3);
  fleet.host('h1').failsToStart.add('1.0.0');
  const r = recorder();
  const report = await runRollout({
    app: 'hello', name: 'restart', batch: 3, pauseS: 0, strategy: '', requestedBy: 't', timeoutMs: 1000,
    steps: fleet.hosts.map((host) => ({ host, action: { kind: 'control', action: 'restart' }, from: null, back: null })),
  }, fleet, { emit: r.emit });
  assert.deepEqual(Object.fromEntries(report.results), { h1: 'failed', h2: 'switched', h3: 'switched' });
  assert.deepEqual(report.reverted, []);
  assert.deepEqual(r.of('host_event').map((e) => [e.host, e.action, e.event.event]), [['h1', 'control', 'failed'], ['h2', 'control', 'done'], ['h3', 'control', 'done']]);
});

test('deploy: uploads only where missing, then the rollout; each host\'s record says what happened', async () => {
  const fleet = new FakeFleet(3);
  fleet.host('h2').present.push(V2);
  const r = recorder();
  const out = await deploy(fleet, release(), { strategy: '', requestedBy: 't', uploadOnly: false, activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: r.emit });
  assert.deepEqual(r.of('upload_skipped').map((e) => e.host), ['h2']);
  assert.deepEqual(out.hosts.map((h) => [h.host, h.ok, h.outcome, h.upload, h.upload_channel, h.state, h.before?.version]), [
    ['h1', true, 'switched', 'sent', 'data-port', 'running 1.1.0', '1.0.0'],
    ['h2', true, 'switched', 'skipped', null, 'running 1.1.0', '1.0.0'],
    ['h3', true, 'switched', 'sent', 'data-port', 'running 1.1.0', '1.0.0'],
  ]);
  assert.deepEqual(out.hosts[0].events.map((e) => e.event), ['starting', 'ready', 'done']);
  assert.deepEqual(out.batches, [['h1'], ['h2'], ['h3']]);
});

test('deploy: a failed upload switches no host; a failed before_activate neither', async () => {
  const fleet = new FakeFleet(2);
  fleet.host('h2').unreachable = true;
  const r = recorder();
  const out = await deploy(fleet, release(), { strategy: '', requestedBy: 't', uploadOnly: false, activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: r.emit });
  assert.deepEqual(out.hosts.map((h) => [h.outcome, h.ok]), [['not_reached', false], ['upload_failed', false]]);
  assert.deepEqual(r.of('stopped_before_activation').map((e) => e.why), ['uploads_incomplete']);
  assert.ok(!fleet.log.some((l) => l.includes('activate')));

  const two = new FakeFleet(2);
  const gated = await deploy(two, release(), {
    strategy: '', requestedBy: 't', uploadOnly: false, activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: () => undefined,
    beforeActivate: async (first) => { throw new Error(`migration failed on ${first.host}`); },
  });
  assert.deepEqual(gated.hosts.map((h) => [h.outcome, h.error?.message]), Array(2).fill(['not_reached', 'before_activate failed on h1, so no host was switched: migration failed on h1']));
  assert.deepEqual(two.versions(), ['1.0.0', '1.0.0']);
});

test('rollback in batches: a host that fails to go back stops it, and the hosts already moved go forward again', async () => {
  const fleet = new FakeFleet(3, 8, [V1, V2, V3]);
  fleet.host('h2').failsToStart.add('1.1.0');
  const views = await inspectHosts(fleet, 'hello');
  const plan = planRollback(views);
  assert.ok(plan.ok);
  const r = recorder();
  const out = await rollback(fleet, 'hello', views, plan.steps, { strategy: '', requestedBy: 't', activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: r.emit });
  assert.deepEqual(out.hosts.map((h) => [h.host, h.outcome, h.ok]), [['h1', 'reverted', false], ['h2', 'failed', false], ['h3', 'not_reached', false]]);
  assert.deepEqual(fleet.log, ['h1 activate 1.1.0 undo (rollback)', 'h2 activate 1.1.0 undo (rollback)', 'h1 activate 1.2.0 (revert)']);
  assert.deepEqual(fleet.versions(), ['1.2.0', '1.2.0', '1.2.0']);
  // h1 popped 1.2.0 and pushed it again: its stack, and so its rollback target, is what it was.
  assert.deepEqual(fleet.host('h1').stack, [V1, V2, V3]);
});

test('rollback to a named version that fails on a host: the hosts moved are popped back', async () => {
  const fleet = new FakeFleet(3, 8, [V1, V2]);
  for (const h of fleet.connections) h.present.push(V3);
  fleet.host('h3').failsToStart.add('1.2.0');
  const views = await inspectHosts(fleet, 'hello');
  const plan = planRollback(views, '1.2.0');
  assert.ok(plan.ok);
  const out = await rollback(fleet, 'hello', views, plan.steps, { strategy: '', requestedBy: 't', activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: () => undefined });
  assert.deepEqual(out.hosts.map((h) => h.outcome), ['reverted', 'reverted', 'failed']);
  assert.deepEqual(fleet.log.slice(3), ['h1 activate 1.1.0 undo (revert)', 'h2 activate 1.1.0 undo (revert)']);
  for (const h of fleet.connections) assert.deepEqual(h.stack, [V1, V2]);
});

test('a successful rollback goes host by host with batch 1 and every host is ok', async () => {
  const fleet = new FakeFleet(3, 8, [V1, V2]);
  const views = await inspectHosts(fleet, 'hello');
  const plan = planRollback(views);
  assert.ok(plan.ok);
  const r = recorder();
  const out = await rollback(fleet, 'hello', views, plan.steps, { strategy: '', requestedBy: 't', activateTimeoutMs: 1000, batch: 1, pauseS: 0, revert: 'all', emit: r.emit });
  assert.ok(out.hosts.every((h) => h.ok && h.state === 'running 1.0.0'));
  assert.deepEqual(out.batches, [['h1'], ['h2'], ['h3']]);
  assert.equal(fleet.maxInFlight, 1);
  assert.deepEqual(r.events.filter((e) => e.type === 'host_started').map((e) => e.type === 'host_started' && `${e.host} ${e.from?.version}`), ['h1 1.1.0', 'h2 1.1.0', 'h3 1.1.0']);
});

test('rollback refuses before any host moves when a host does not answer', async () => {
  const fleet = new FakeFleet(2, 8, [V1, V2]);
  fleet.host('h2').unreachable = true;
  await assert.rejects(inspectHosts(fleet, 'hello'), /not every host answered, so nothing was changed: h2: unreachable/);
  assert.deepEqual(fleet.log, []);
});
