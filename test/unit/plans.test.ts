// The coordinator's pure plans: batches, reverts, rollbacks, going back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSize, moveBack, planBatches, planRevert, planRollback, type HostResult, type HostView } from '../../coordinator/plans.js';

const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];

test('batches: numbers, percentages (rounded up, at least 1), order kept', () => {
  assert.deepEqual(planBatches(hosts, 1), [['h1'], ['h2'], ['h3'], ['h4'], ['h5']]);
  assert.deepEqual(planBatches(hosts, 2), [['h1', 'h2'], ['h3', 'h4'], ['h5']]);
  assert.deepEqual(planBatches(hosts, '40%'), [['h1', 'h2'], ['h3', 'h4'], ['h5']]);
  assert.deepEqual(planBatches(hosts, '100%'), [hosts]);
  assert.deepEqual(planBatches(hosts, 10), [hosts]);
  assert.equal(batchSize('1%', 5), 1);
  assert.equal(batchSize('3', 5), 3);
  assert.throws(() => batchSize(0, 5), /≥ 1/);
  assert.throws(() => batchSize('0%', 5), /1% to 100%/);
  assert.throws(() => batchSize('half', 5), /percentage/);
});

const results = (m: Record<string, HostResult>) => new Map(Object.entries(m));

test('revert all: every host the rollout switched, not the failed one, not those not reached', () => {
  const batches = planBatches(['h1', 'h2', 'h3', 'h4'], 1);
  const r = results({ h1: 'switched', h2: 'switched', h3: 'failed', h4: 'not_reached' });
  assert.deepEqual(planRevert(batches, r, 'all'), ['h1', 'h2']);
  assert.deepEqual(planRevert(batches, r, 'batch'), []);
});

test('revert batch: only the switched hosts of the failed batch', () => {
  const batches = planBatches(['h1', 'h2', 'h3', 'h4'], 2);
  const r = results({ h1: 'switched', h2: 'switched', h3: 'switched', h4: 'failed' });
  assert.deepEqual(planRevert(batches, r, 'batch'), ['h3']);
  assert.deepEqual(planRevert(batches, r, 'all'), ['h1', 'h2', 'h3']);
  assert.deepEqual(planRevert(batches, results({ h1: 'switched', h2: 'switched', h3: 'switched', h4: 'switched' }), 'all'), []);
});

const A = { version: '1.0.0', sha256: 'a'.repeat(64) };
const B = { version: '1.1.0', sha256: 'b'.repeat(64) };
const C = { version: '1.2.0', sha256: 'c'.repeat(64) };
const view = (host: string, stack: typeof A[], present = stack): HostView => ({
  host, stack, present, current: stack.at(-1), target: stack.length >= 2 ? stack[stack.length - 2] : undefined,
});

test('rollback without a version: every host pops to the same target', () => {
  const plan = planRollback([view('h1', [A, B, C]), view('h2', [A, B, C])]);
  assert.ok(plan.ok);
  assert.deepEqual(plan.steps.map((s) => [s.host, s.version, s.undo]), [['h1', '1.1.0', true], ['h2', '1.1.0', true]]);
});

test('rollback without a version: different targets ask for a version; no target names the host', () => {
  const diff = planRollback([view('h1', [A, C]), view('h2', [B, C])]);
  assert.equal(diff.ok, false);
  assert.match(diff.ok ? '' : diff.problem, /different releases: h1 → 1\.0\.0.*h2 → 1\.1\.0.*slipway rollback ENV VERSION/);
  const none = planRollback([view('h1', [A, C]), view('h2', [C])]);
  assert.match(none.ok ? '' : none.problem, /no earlier activation to go back to on h2/);
  const gone = planRollback([view('h1', [A, C], [C]), view('h2', [A, C])]);
  assert.match(gone.ok ? '' : gone.problem, /no longer on h1/);
});

test('rollback to a version: every host must have it, or nothing changes and the hosts are named', () => {
  const ok = planRollback([view('h1', [A, B, C]), view('h2', [B, C], [A, B, C])], '1.0.0');
  assert.ok(ok.ok);
  assert.deepEqual(ok.steps.map((s) => [s.host, s.sha256, s.undo]), [['h1', A.sha256, false], ['h2', A.sha256, false]]);
  const missing = planRollback([view('h1', [A, B, C]), view('h2', [B, C]), view('h3', [B, C])], '1.0.0');
  assert.match(missing.ok ? '' : missing.problem, /1\.0\.0 is not on h2, h3; nothing was changed/);
});

test('rollback to a re-tagged version: the build the host ran last wins; hosts disagreeing is an error', () => {
  const A2 = { version: '1.0.0', sha256: 'd'.repeat(64) };
  const plan = planRollback([view('h1', [A, A2, C], [A, A2, C])], '1.0.0');
  assert.ok(plan.ok && plan.steps[0].sha256 === A2.sha256);
  const split = planRollback([view('h1', [A, C]), view('h2', [A2, C])], '1.0.0');
  assert.match(split.ok ? '' : split.problem, /different builds of 1\.0\.0/);
});

test('going back undoes the move: a push is popped, a pop is pushed again; nothing before, nothing to go back to', () => {
  assert.deepEqual(moveBack({ ...C, undo: false }, B), { ...B, undo: true });
  assert.deepEqual(moveBack({ ...A, undo: true }, B), { ...B, undo: false });
  assert.equal(moveBack({ ...C, undo: false }, null), null);
});

test('planRevert: a host whose outcome is unknown stops the rollout like a failure and is in the revert (asked first), in both modes', () => {
  const batches = [['h1'], ['h2', 'h3'], ['h4']];
  const r = results({ h1: 'switched', h2: 'unknown', h3: 'switched', h4: 'not_reached' });
  assert.deepEqual(planRevert(batches, r, 'all'), ['h1', 'h2', 'h3']);
  assert.deepEqual(planRevert(batches, r, 'batch'), ['h2', 'h3']);
});
