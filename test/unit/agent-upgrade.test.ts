// The agent's side of its own upgrades (agent/upgrade/home.ts: the switch
// in the launcher's format) and the coordinator's reading of a host's
// history (coordinator/agent-upgrade/rollout.ts: verdictOf, lastSwitchAt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHome, INSTALLED, versionOfRef } from '../../agent/upgrade/home.js';
import { lastSwitchAt, verdictOf } from '../../coordinator/agent-upgrade/rollout.js';

const T = 1_900_000_000;

function build(home: AgentHome, name: string, mtime: number): void {
  mkdirSync(join(home.buildDir(name), 'bin'), { recursive: true });
  writeFileSync(join(home.buildDir(name), 'bin', 'slipway-agent.mjs'), '');
  utimesSync(home.buildDir(name), mtime, mtime);
}

test('the switch writes the marker in the launcher\'s format, then previous and current; confirm removes the marker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-home-'));
  try {
    const home = new AgentHome(dir);
    assert.equal(await home.link('current'), INSTALLED);
    assert.equal(await home.hasPrevious(), false);
    build(home, '1.1.0-0123456789ab', T);
    assert.equal(await home.hasBuild('1.1.0-0123456789ab'), true);
    assert.equal(await home.hasBuild('nope'), false);
    const m = await home.switchTo('builds/1.1.0-0123456789ab', { switched_at: T, to_version: '1.1.0', from_version: '1.0.0', who: 'ci-1' });
    assert.deepEqual({ from: m.from, previous: m.previous, attempts: m.attempts }, { from: INSTALLED, previous: '', attempts: 0 });
    assert.equal(readlinkSync(join(dir, 'current')), 'builds/1.1.0-0123456789ab');
    assert.equal(readlinkSync(join(dir, 'previous')), INSTALLED);
    const text = readFileSync(home.markerFile, 'utf8');
    assert.match(text, /^to=builds\/1\.1\.0-0123456789ab$/m);
    assert.match(text, /^switched_at=1900000000$/m);
    assert.match(text, /^attempts=0$/m);
    assert.deepEqual(await home.marker(), { ...m });
    await home.confirm();
    assert.equal(await home.marker(), undefined);
    // The launcher's record of a switch back.
    writeFileSync(home.rolledBackFile, 'from=builds/1.2.0-aaaaaaaaaaaa\nto=builds/1.1.0-0123456789ab\nat=1900000100\nattempts=3\nreason=started 3 times without confirming it is healthy\n');
    assert.deepEqual(await home.rolledBack(), { from: 'builds/1.2.0-aaaaaaaaaaaa', to: 'builds/1.1.0-0123456789ab', at: T + 100, attempts: 3, reason: 'started 3 times without confirming it is healthy' });
    await home.dropRolledBack();
    assert.equal(await home.rolledBack(), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unused builds: never current or previous, oldest first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-home-'));
  try {
    const home = new AgentHome(dir);
    for (const [i, n] of ['1.0.0-aaaaaaaaaaaa', '1.1.0-bbbbbbbbbbbb', '1.2.0-cccccccccccc', '1.3.0-dddddddddddd'].entries()) build(home, n, T + i);
    await home.switchTo('builds/1.2.0-cccccccccccc', { switched_at: T, to_version: '1.2.0', from_version: '', who: '' });
    await home.confirm();
    await home.switchTo('builds/1.3.0-dddddddddddd', { switched_at: T, to_version: '1.3.0', from_version: '', who: '' });
    assert.deepEqual(await home.unusedBuilds(), ['1.0.0-aaaaaaaaaaaa', '1.1.0-bbbbbbbbbbbb']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('versionOfRef', () => {
  assert.equal(versionOfRef('builds/1.4.2-rc.1-0123456789ab'), '1.4.2-rc.1');
  assert.equal(versionOfRef(INSTALLED), '');
});

test('a host\'s verdict: the entries after this rollout\'s switch, by the host\'s own clock', () => {
  const e = (at: string, action: string, to_version = '', message = '') => ({ at, action, to_version, message });
  const old = [e('2026-01-01T00:00:00.000Z', 'agent-upgrade', '1.0.0'), e('2026-01-01T00:00:05.000Z', 'agent-confirmed', '1.0.0')];
  const before = lastSwitchAt(old);
  assert.equal(before, '2026-01-01T00:00:00.000Z');
  assert.equal(lastSwitchAt([]), '');
  assert.deepEqual(verdictOf(old, before), { kind: 'pending' }, 'an old confirmation is not this switch\'s');
  const switched = [...old, e('2026-02-01T00:00:00.000Z', 'agent-upgrade', '1.1.0')];
  assert.deepEqual(verdictOf(switched, before), { kind: 'pending' });
  assert.deepEqual(verdictOf([...switched, e('2026-02-01T00:00:03.000Z', 'agent-confirmed', '1.1.0', 'ok')], before), { kind: 'confirmed', version: '1.1.0', message: 'ok' });
  assert.deepEqual(verdictOf([...switched, e('2026-02-01T00:00:09.000Z', 'agent-self-rollback', '1.0.0', 'crashed')], before), { kind: 'rolled_back', message: 'crashed' });
  // A rollback is a switch too.
  assert.deepEqual(verdictOf([...old, e('2026-03-01T00:00:00.000Z', 'agent-rollback', ''), e('2026-03-01T00:00:02.000Z', 'agent-confirmed', '0.9.0', 'back')], before),
    { kind: 'confirmed', version: '0.9.0', message: 'back' });
});
