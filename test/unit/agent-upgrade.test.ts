// The agent's side of its own upgrades (agent/upgrade/home.ts: the switch
// in the launcher's format) and the coordinator's reading of a host's
// history (coordinator/agent-upgrade/rollout.ts: verdictOf, lastSwitchAt);
// which program of a build a host keeps; --to VERSION among the hosts'
// releases; the test-only pause hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHome, INSTALLED, versionOfRef } from '../../agent/upgrade/home.js';
import { lastSwitchAt, verdictOf } from '../../coordinator/agent-upgrade/rollout.js';
import { pickProgram } from '../../agent/upgrade/upgrades.js';
import { releaseKeptOnHosts } from '../../coordinator/agent-upgrade/build.js';
import { claimPause } from '../../agent/upgrade/test-pause.js';

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

test('which program a host keeps: the kind it runs; else the one there is; a bundle where the executable runs needs a node', () => {
  const node = () => true;
  const noNode = () => false;
  assert.equal(pickProgram(['executable', 'bundle'], true, noNode), 'executable');
  assert.equal(pickProgram(['executable', 'bundle'], false, noNode), 'bundle');
  assert.equal(pickProgram(['executable'], false, noNode), 'executable', 'a bundle host may move to the executable');
  assert.equal(pickProgram(['bundle'], false, noNode), 'bundle');
  assert.equal(pickProgram(['bundle'], true, node), 'bundle', 'the executable host has a node: the bundle runs');
  assert.equal(pickProgram(['bundle'], true, noNode), undefined, 'refused: nothing would run it');
  assert.equal(pickProgram([], false, node), undefined);
  // An executable built for another CPU is never kept.
  const otherCpu = () => false;
  assert.equal(pickProgram(['executable', 'bundle'], true, node, otherCpu), 'bundle', 'the executable host has a node: the bundle instead');
  assert.equal(pickProgram(['executable', 'bundle'], true, noNode, otherCpu), undefined, 'refused: neither would run');
  assert.equal(pickProgram(['executable'], false, node, otherCpu), undefined);
  assert.equal(pickProgram(['executable', 'bundle'], false, node, otherCpu), 'bundle');
});

test('--to VERSION kept on the hosts: every host has it, with one sha256; else who lacks it, or the disagreement', () => {
  const a = { version: '1.2.0', sha256: 'a'.repeat(64), size: '100' };
  const b = { version: '1.2.0', sha256: 'b'.repeat(64), size: 100 };
  const other = { version: '1.1.0', sha256: 'c'.repeat(64), size: 5 };
  const ok = releaseKeptOnHosts('1.2.0', new Map([['h1', [a, other]], ['h2', [a]]]));
  assert.ok(!('missing' in ok));
  assert.deepEqual({ version: ok.version, sha256: ok.sha256, size: ok.size, file: ok.file, kind: ok.kind }, { version: '1.2.0', sha256: a.sha256, size: 100, file: undefined, kind: '' });
  assert.deepEqual(releaseKeptOnHosts('1.2.0', new Map([['h1', [a]], ['h2', [other]], ['h3', []]])), { missing: ['h2', 'h3'] });
  const conflict = releaseKeptOnHosts('1.2.0', new Map([['h1', [a]], ['h2', [b]]]));
  assert.ok('missing' in conflict);
  assert.match(conflict.conflict ?? '', /2 different builds of 1\.2\.0/);
});

test('the test-only pause: inert without its variable or for another step; claimed once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-pause-'));
  try {
    const file = join(dir, 'pause-at');
    assert.equal(await claimPause('upload', {}), false);
    writeFileSync(file, 'switch\n');
    assert.equal(await claimPause('upload', { SLIPWAY_TEST_PAUSE_FILE: file }), false);
    assert.equal(readFileSync(file, 'utf8'), 'switch\n', 'another step: untouched');
    // The step it names: claimed (renamed), its pid written; the next one passes.
    assert.equal(await claimPause('switch', { SLIPWAY_TEST_PAUSE_FILE: file }), true);
    assert.equal(readFileSync(`${file}.reached`, 'utf8'), `switch ${process.pid}\n`);
    assert.throws(() => readFileSync(file), 'the request was claimed');
    assert.equal(await claimPause('switch', { SLIPWAY_TEST_PAUSE_FILE: file }), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
