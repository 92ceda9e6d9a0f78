// Hosts whose step's outcome was not seen (issue 15): cut off before, or
// after, the activation took effect. The executor calls them unknown (never
// done, never failed), stops the rollout, and the revert asks them what they
// run within a grace period (an injected clock) before putting them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRollout, activationStep, callFailureIsKnown, type Rollout, type HostStep, type RolloutRun } from '../../coordinator/rollout/executor.js';
import { HostRecords } from '../../coordinator/rollout/records.js';
import { summaryTable } from '../../coordinator/rollout/render.js';
import type { RolloutEvent } from '../../coordinator/rollout/events.js';
import { FakeFleet, rel } from '../helpers/fake-fleet.js';

const V2 = rel('1.1.0');

function setup(n = 3) {
  const fleet = new FakeFleet(n);
  for (const h of fleet.connections) h.present.push(V2);
  const rollout: Rollout = {
    app: 'hello', name: 'deploy', batch: 1, pauseS: 0, revert: 'all', strategy: '', requestedBy: 't', timeoutMs: 1000, unknownGraceMs: 30_000,
    steps: fleet.connections.map((c): HostStep => activationStep(c.host, c.current ?? null, { ...V2, undo: false }, 'deploy')),
  };
  const events: RolloutEvent[] = [];
  const records = new HostRecords(fleet.hosts);
  let clock = 0;
  let sleeps = 0;
  /** Heals `host` after this many of the revert's pauses (undefined: never). */
  const run = (heal?: { host: string; after: number }): RolloutRun => ({
    emit: (e) => { events.push(e); records.apply(e); },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      sleeps++;
      if (heal && sleeps >= heal.after) fleet.host(heal.host).heal();
    },
  });
  return { fleet, rollout, events, records, run, sleeps: () => sleeps };
}

/** No host_result of a host that is unknown says done or failed. */
function neverDoneOrFailedWhileUnknown(events: RolloutEvent[], host: string): void {
  const forward = events.filter((e) => e.type === 'host_result' && e.host === host && e.phase === 'forward');
  assert.equal(forward.length, 1);
  assert.deepEqual(forward.map((e) => e.type === 'host_result' && [e.ok, e.unknown]), [[false, true]]);
}

test('cut off after the switch: unknown, the rollout stops, the revert finds it switched (once it answers) and puts it back with the others', async () => {
  const { fleet, rollout, events, records, run } = setup();
  fleet.host('h2').cut = 'after';
  const report = await runRollout(rollout, fleet, run({ host: 'h2', after: 3 }));
  neverDoneOrFailedWhileUnknown(events, 'h2');
  assert.equal(report.results.get('h3'), 'not_reached');
  assert.equal(report.results.get('h2'), 'switched', 'learned by asking it');
  assert.deepEqual(report.reverted, ['h1', 'h2']);
  const started = events.find((e) => e.type === 'revert_started');
  assert.deepEqual(started?.type === 'revert_started' && started.unknown, ['h2']);
  assert.ok(events.some((e) => e.type === 'outcome_learned' && e.host === 'h2' && e.switched));
  assert.deepEqual(fleet.versions(), ['1.0.0', '1.0.0', '1.0.0'], 'one version again');
  assert.deepEqual(records.list().map((r) => [r.host, r.outcome]), [['h1', 'reverted'], ['h2', 'reverted'], ['h3', 'not_reached']]);
});

test('cut off before the activation reached it: unknown until it answers, then known not switched (failed, with why); the others are put back', async () => {
  const { fleet, rollout, events, records, run } = setup();
  fleet.host('h2').cut = 'before';
  const report = await runRollout(rollout, fleet, run({ host: 'h2', after: 2 }));
  neverDoneOrFailedWhileUnknown(events, 'h2');
  assert.equal(report.results.get('h2'), 'failed');
  assert.deepEqual(fleet.versions(), ['1.0.0', '1.0.0', '1.0.0']);
  const h2 = records.list().find((r) => r.host === 'h2');
  assert.equal(h2?.outcome, 'failed');
  assert.match(h2?.error?.message ?? '', /cut off during the step; asked later, it still runs 1\.0\.0/);
  // Only h1 was activated back; h2 ran its old version all along.
  assert.deepEqual(fleet.log.filter((l) => l.includes('revert')), ['h1 activate 1.0.0 undo (revert)']);
});

test('no answer within the grace period: it stays unknown, named with both versions; the hosts that answered are put back', async () => {
  const { fleet, rollout, records, run, sleeps } = setup();
  fleet.host('h2').cut = 'after';
  const report = await runRollout(rollout, fleet, run());
  assert.equal(report.results.get('h2'), 'unknown');
  assert.equal(sleeps(), 30, 'asked every second for the 30 s of grace (the injected clock)');
  const h2 = records.list().find((r) => r.host === 'h2');
  assert.equal(h2?.outcome, 'unknown');
  assert.equal(h2?.ok, false);
  assert.match(h2?.error?.message ?? '', /^outcome unknown: no settled answer within 30 s .*it may run 1\.0\.0 or 1\.1\.0/);
  assert.deepEqual(fleet.versions(), ['1.0.0', '1.1.0', '1.0.0'], 'h2 did switch while cut off: the output names it');
  assert.match(summaryTable(records.list()), /h2 .*UNKNOWN \?/);
});

test('the revert of a batch: unknown hosts of the failed batch are asked; switched hosts of earlier batches are left with revert: batch', async () => {
  const { fleet, rollout, run } = setup(4);
  fleet.host('h3').cut = 'after';
  const report = await runRollout({ ...rollout, batch: 2, revert: 'batch' }, fleet, run({ host: 'h3', after: 1 }));
  assert.deepEqual(report.reverted, ['h3', 'h4']);
  assert.equal(report.results.get('h3'), 'switched');
  // h4 was in the batch and switched; h3 switched while cut off: both put back; h1, h2 (batch 1) kept.
  assert.deepEqual(fleet.versions(), ['1.1.0', '1.1.0', '1.0.0', '1.0.0']);
});

test('a refused connection is a known failure (the request never left); a deadline or a code-less error after the call started is unknown', () => {
  assert.equal(callFailureIsKnown({ message: 'unreachable: connection refused', unreachable: true, neverSent: true }, 0), true);
  assert.equal(callFailureIsKnown({ message: 'unreachable: no answer before the deadline', unreachable: true }, 0), false);
  assert.equal(callFailureIsKnown({ message: 'locked', unreachable: false, code: 'SLIPWAY_ERR_LOCKED' }, 0), true);
  assert.equal(callFailureIsKnown({ message: 'locked', unreachable: false, code: 'SLIPWAY_ERR_LOCKED' }, 2), false, 'events had come: the step had started');
  assert.equal(callFailureIsKnown({ message: 'stream reset', unreachable: false, code: 'SLIPWAY_ERR_HOST_REFUSED' }, 0), false);
  assert.equal(callFailureIsKnown({ message: 'bug', unreachable: false, code: 'SLIPWAY_ERR_INTERNAL' }, 0), false);
});
