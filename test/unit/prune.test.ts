// agent/storage/prune.ts: the pure plan (what goes, what stays and why) and the
// schedule, under node:test's mock timers (dependencies.md §4.3).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { planPrune, excessLogs, schedulePrune, type PruneInput } from '../../agent/storage/prune.js';
import { emptyState, afterActivation, type ActivationRecord, type AppState } from '../../agent/runtime/state.js';
import type { ReleaseListing } from '../../agent/storage/releases.js';
import type { Logger } from '../../agent/logger.js';
import { agentConfigSchema } from '../../agent/config.js';

const sha = (v: string) => v.replace(/\D/g, '').padEnd(64, 'a').slice(0, 64);

function listing(version: string, storedAt: string): ReleaseListing {
  return { app: 'hello', version, sha256: sha(version), size: 1000, stored: true, unpacked: true, stored_at: storedAt };
}

function activation(version: string, at: string): ActivationRecord {
  return { version, sha256: sha(version), at, strategy: 'hot', reason: 'deploy', result: 'done', message: '', requested_by: 't' };
}

/** A host's state after deploying each version in turn, one minute apart (1.0.1 at 00:01 …). */
function deployed(versions: string[]): { releases: ReleaseListing[]; state: AppState } {
  let state = emptyState('hello');
  const releases: ReleaseListing[] = [];
  versions.forEach((v, i) => {
    const at = `2026-01-01T00:${String(i + 1).padStart(2, '0')}:00.000Z`;
    releases.push(listing(v, at));
    state = afterActivation(state, activation(v, at));
  });
  return { releases, state };
}

const versions = (xs: { version: string }[]) => xs.map((x) => x.version).sort();

test('keeps the newest N, the current release and the rollback target; removes the rest', () => {
  const { releases, state } = deployed(['1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.0.5', '1.0.6']);
  const plan = planPrune({ releases, state, running: [], keep: 3 });
  assert.deepEqual(versions(plan.keep.map((k) => k.release)), ['1.0.4', '1.0.5', '1.0.6']);
  assert.deepEqual(versions(plan.remove), ['1.0.1', '1.0.2', '1.0.3']);
  const why = new Map(plan.keep.map((k) => [k.release.version, k.why]));
  assert.deepEqual(why.get('1.0.6'), ['current', 'newest']);
  assert.deepEqual(why.get('1.0.5'), ['rollback_target', 'newest']);
});

test('keep 1 still keeps the current release and the rollback target', () => {
  const { releases, state } = deployed(['1.0.1', '1.0.2', '1.0.3']);
  const plan = planPrune({ releases, state, running: [], keep: 1 });
  assert.deepEqual(versions(plan.keep.map((k) => k.release)), ['1.0.2', '1.0.3']);
  assert.deepEqual(versions(plan.remove), ['1.0.1']);
});

test('after a rollback (undo), the release rolled back to is current and the one beneath it the target', () => {
  const d = deployed(['1.0.1', '1.0.2', '1.0.3', '1.0.4']);
  // Roll back from 1.0.4 to 1.0.3: the stack pops; 1.0.2 becomes the rollback target.
  const state = afterActivation(d.state, activation('1.0.3', '2026-01-01T00:10:00.000Z'), true);
  const plan = planPrune({ releases: d.releases, state, running: [], keep: 1 });
  assert.deepEqual(versions(plan.keep.map((k) => k.release)), ['1.0.2', '1.0.3']);
  assert.deepEqual(versions(plan.remove), ['1.0.1', '1.0.4']);
});

test('an old release activated again (rollback to a named version) counts as recent', () => {
  const d = deployed(['1.0.1', '1.0.2', '1.0.3', '1.0.4']);
  // slipway rollback ENV 1.0.1: a forward activation of an old release.
  const state = afterActivation(d.state, activation('1.0.1', '2026-01-01T00:10:00.000Z'));
  const plan = planPrune({ releases: d.releases, state, running: [], keep: 2 });
  // newest by use: 1.0.1 (00:10), 1.0.4 (00:04); 1.0.4 is also the rollback target.
  assert.deepEqual(versions(plan.keep.map((k) => k.release)), ['1.0.1', '1.0.4']);
  assert.deepEqual(versions(plan.remove), ['1.0.2', '1.0.3']);
});

test('never the release an activation in progress switches to, nor one a live process runs', () => {
  const d = deployed(['1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.0.5']);
  const activating = { version: '1.0.1', sha256: sha('1.0.1') };
  const running = [{ version: '1.0.2', sha256: sha('1.0.2') }, { version: '1.0.5', sha256: sha('1.0.5') }];
  const input: PruneInput = { releases: d.releases, state: d.state, activating, running, keep: 1 };
  const plan = planPrune(input);
  assert.deepEqual(versions(plan.keep.map((k) => k.release)), ['1.0.1', '1.0.2', '1.0.4', '1.0.5']);
  assert.deepEqual(versions(plan.remove), ['1.0.3']);
  assert.deepEqual(plan.keep.find((k) => k.release.version === '1.0.1')?.why, ['activating']);
  assert.deepEqual(plan.keep.find((k) => k.release.version === '1.0.2')?.why, ['running']);
});

test('an uploaded release never activated counts by its upload time; nothing deployed keeps the newest N', () => {
  const releases = [listing('2.0.0', '2026-01-01T00:00:00Z'), listing('2.0.1', '2026-01-02T00:00:00Z'), listing('2.0.2', '2026-01-03T00:00:00Z')];
  const plan = planPrune({ releases, state: emptyState('hello'), running: [], keep: 2 });
  assert.deepEqual(versions(plan.remove), ['2.0.0']);
  assert.deepEqual(planPrune({ releases: [], state: emptyState('hello'), running: [], keep: 5 }), { keep: [], remove: [] });
});

test('rotated logs past the limit go; app.log and app.log.1…N stay', () => {
  const names = ['app.log', 'app.log.1', 'app.log.2', 'app.log.3', 'app.log.4', 'app.log.10', 'other.log', 'app.log.x'];
  assert.deepEqual(excessLogs(names, 2), ['app.log.10', 'app.log.3', 'app.log.4']);
  assert.deepEqual(excessLogs(names, 10), []);
});

test('the scheduled job runs hourly by default, at minute 0 UTC, under an injected clock', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date('2026-01-01T00:30:00Z') });
  const logs: string[] = [];
  const log = { error: (_o: unknown, m: string) => logs.push(m) } as unknown as Logger;
  try {
    const runs: string[] = [];
    let fail = true;
    const expression = agentConfigSchema.parse({ tls: { insecure: true }, listen: '127.0.0.1:7070' }).prune_schedule;
    assert.equal(expression, '0 * * * *');
    const task = schedulePrune(expression, async () => {
      runs.push(new Date().toISOString());
      if (fail) { fail = false; throw new Error('disk went away'); }
    }, log);
    for (let i = 0; i < 3 * 60; i++) {
      mock.timers.tick(60_000);
      await new Promise((r) => setImmediate(r));
    }
    await task.destroy();
    assert.deepEqual(runs.map((r) => r.slice(0, 16)), ['2026-01-01T01:00', '2026-01-01T02:00', '2026-01-01T03:00']);
    // A failing run is logged and the schedule goes on.
    assert.deepEqual(logs, ['scheduled prune failed']);
  } finally {
    mock.timers.reset();
  }
});
