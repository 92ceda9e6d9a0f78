// Words that match what happened (issue #13 item 12): "unchanged" for a host
// that already ran the release, Ctrl-C after the last batch stops nothing,
// RESTARTS per running version, one time format (UTC), and status tables
// that fit the terminal. Pure parts only; the CLI is tested for real in
// test/integration/words.test.ts. No real clock or time zone is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime } from '../../common/time.js';
import { afterActivation, afterFailure, afterRestart, emptyState, type ActivationRecord } from '../../agent/runtime/state.js';
import { HostRecords } from '../../coordinator/rollout/records.js';
import { summaryTable, switchCounts } from '../../coordinator/rollout/render.js';
import { runRollout, activationStep, type Rollout, type HostStep } from '../../coordinator/rollout/executor.js';
import type { RolloutEvent } from '../../coordinator/rollout/events.js';
import { chooseColumns, cutLine, visibleWidth } from '../../coordinator/table-fit.js';
import { renderStatus } from '../../coordinator/commands/status.js';
import { factsMessage } from '../../agent/transport/handlers/status.js';
import { describeLease } from '../../agent/locks.js';
import { FakeFleet, rel } from '../helpers/fake-fleet.js';

test('formatTime: UTC, "YYYY-MM-DD HH:MM:SSZ", from a Date, epoch ms or ISO text, whatever TZ says', () => {
  assert.equal(formatTime(new Date(Date.UTC(2026, 11, 2, 14, 5, 9, 765))), '2026-12-02 14:05:09Z');
  assert.equal(formatTime(Date.UTC(2031, 0, 1, 0, 0, 0)), '2031-01-01 00:00:00Z');
  // An offset in the text is converted, not kept: 10:30 at +14:00 is 20:30 the day before in UTC.
  assert.equal(formatTime('2027-03-01T10:30:00+14:00'), '2027-02-28 20:30:00Z');
  assert.equal(formatTime(''), '-');
  assert.equal(formatTime(undefined), '-');
  assert.equal(formatTime('not a time'), 'not a time');
});

test('a lock is described with the one time format', () => {
  const text = describeLease({ app: 'hello', lease_id: 'x', holder: 'ci-1', reason: 'deploying 1.4.2', since: '2026-11-27T10:02:00.000Z', expires_at: '2026-11-28T00:00:30.000Z' });
  assert.equal(text, 'hello is locked by ci-1 since 2026-11-27 10:02:00Z (deploying 1.4.2); the lease ends at 2026-11-28 00:00:30Z unless its holder renews it');
});

const rec = (version: string, result: 'done' | 'failed' = 'done'): ActivationRecord => ({
  version, sha256: version.replace(/\./g, '').padEnd(64, 'a'), at: '2026-11-27T00:00:00Z', strategy: 'hot', reason: 'deploy', result, message: '', requested_by: 't',
});

test('RESTARTS counts the version that runs now: an activation starts it at 0; a failed one or a restart onto it keeps it', () => {
  let s = afterActivation(emptyState('hello'), rec('1.0.0'));
  s = { ...s, restarts: 3 };
  assert.equal(afterFailure(s, rec('1.1.0', 'failed')).restarts, 3, 'a failed activation leaves 1.0.0 running, with its count');
  assert.equal(afterRestart(s, rec('1.0.0')).restarts, 3, 'a restart onto 1.0.0: still that version');
  assert.equal(afterActivation(s, rec('1.1.0')).restarts, 0, 'a new version runs: its own count');
  assert.equal(afterActivation({ ...afterActivation(s, rec('1.1.0')), restarts: 2 }, rec('1.0.0'), true).restarts, 0, 'a rollback (undo) too');
});

const ev = (host: string, event: string, extra: Partial<{ unchanged: boolean; message: string }> = {}): RolloutEvent => ({
  type: 'host_event', host, phase: 'forward', action: 'activate',
  event: { event, at: '2026-11-27T00:00:00.000Z', message: extra.message ?? event, elapsed_s: 0, pid: 7, output: [], ...(extra.unchanged ? { unchanged: true } : {}) },
});

test('a host that already ran the release is "unchanged", not "switched", in the records, the table and the counts', () => {
  const r = new HostRecords(['a', 'b', 'c']);
  for (const e of [
    ev('a', 'starting'), ev('a', 'ready'), ev('a', 'done'),
    ev('b', 'done', { unchanged: true, message: 'hello 1.0.0 is already running (pid 7): unchanged' }),
    ev('c', 'done', { unchanged: true }),
  ]) r.apply(e);
  for (const host of ['a', 'b', 'c']) {
    r.apply({ type: 'host_result', host, phase: 'forward', action: 'activate', ok: true });
    r.apply({ type: 'settled', host, state: 'running 1.0.0', pid: 7, ok: true });
  }
  assert.deepEqual(r.list().map((h) => [h.host, h.outcome, h.ok]), [['a', 'switched', true], ['b', 'unchanged', true], ['c', 'unchanged', true]]);
  assert.equal(switchCounts(r.list()), '1 switched, 2 unchanged');
  const table = summaryTable(r.list());
  assert.match(table, /^b\s+-\s+unchanged\s+running 1\.0\.0\s+7\s+it ran this release already$/m);
  assert.match(table, /^a\s+-\s+switched\s/m);
  assert.equal(switchCounts([{ outcome: 'failed' }]), '');
});

test('Ctrl-C during the last batch stops nothing: no "interrupted", every host switched; during an earlier one, as before', async () => {
  const V2 = rel('1.1.0');
  const rollout = (fleet: FakeFleet): Rollout => ({
    app: 'hello', name: 'deploy', batch: 1, pauseS: 0, revert: 'all', strategy: '', requestedBy: 't', timeoutMs: 1000,
    steps: fleet.connections.map((c): HostStep => activationStep(c.host, c.current ?? null, { ...V2, undo: false }, 'deploy')),
  });
  const last = new FakeFleet(2);
  for (const h of last.connections) h.present.push(V2);
  let pressed = false;
  const seen: RolloutEvent[] = [];
  const report = await runRollout(rollout(last), last, {
    emit: (e) => { seen.push(e); if (e.type === 'host_started' && e.host === 'h2') pressed = true; },
    interrupted: () => pressed,
  });
  assert.equal(report.interrupted, false);
  assert.equal(seen.filter((e) => e.type === 'interrupted').length, 0);
  assert.deepEqual(last.versions(), ['1.1.0', '1.1.0']);

  const early = new FakeFleet(2);
  for (const h of early.connections) h.present.push(V2);
  pressed = false;
  const stopped = await runRollout(rollout(early), early, { emit: (e) => { if (e.type === 'host_started') pressed = true; }, interrupted: () => pressed });
  assert.equal(stopped.interrupted, true);
  assert.deepEqual(early.versions(), ['1.1.0', '1.0.0']);
});

test('chooseColumns drops the highest `drop` first (the rightmost of equals), never a 0; none without a width', () => {
  const specs = [{ header: 'HOST', drop: 0 }, { header: 'A', drop: 2 }, { header: 'B', drop: 2 }, { header: 'C', drop: 1 }, { header: 'LAST', drop: 0 }];
  const rows = [['host-1', 'aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'zz']];
  assert.deepEqual(chooseColumns(specs, rows, undefined), [0, 1, 2, 3, 4]);
  assert.deepEqual(chooseColumns(specs, rows, 200), [0, 1, 2, 3, 4]);
  // 6 + 10 + 10 + 10 + 4 + 4 gaps of 2 = 48.
  assert.deepEqual(chooseColumns(specs, rows, 48), [0, 1, 2, 3, 4]);
  assert.deepEqual(chooseColumns(specs, rows, 47), [0, 1, 3, 4]);
  assert.deepEqual(chooseColumns(specs, rows, 30), [0, 3, 4]);
  assert.deepEqual(chooseColumns(specs, rows, 5), [0, 4], 'what is never dropped stays, too wide or not');
});

test('cutLine cuts at the width with "…", keeps colour codes and resets them', () => {
  assert.equal(cutLine('short', 10), 'short');
  assert.equal(cutLine('0123456789abc', 10), '012345678…');
  const coloured = cutLine('\x1b[31mred text that is long\x1b[39m', 8);
  assert.equal(visibleWidth(coloured), 8);
  assert.ok(coloured.startsWith('\x1b[31mred tex…'));
  assert.ok(coloured.endsWith('\x1b[0m'));
  assert.equal(cutLine('anything', undefined), 'anything');
});

const facts = {
  os: { distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' },
  cpu: { manufacturer: 'Intel', brand: 'Xeon Gold 6338', cores: 8, physical_cores: 4 },
  memory_total: 16 * 1024 ** 3, filesystems: [{ mount: '/', type: 'ext4', size: 100 * 1024 ** 3 }], read_at: '2026-11-27T00:00:00.000Z',
};

function statusDoc(hosts: number) {
  const entry = (i: number) => ({
    host: `app-server-${i}.internal.example.com:7070`, ok: true as const,
    agent: { version: '0.1.0', hostname: `app-server-${i}`, uptime_s: 100, open_files_limit: 1_048_576, warnings: [] },
    system: { cpu_percent: 12.5, load1: 0.5, memory_total: 8e9, memory_available: 4e9, memory_used_percent: 50, disk_path: '/var/lib/slipway', disk_total: 1e11, disk_free: 5e10, disk_used_percent: 50, uptime_s: 1000, sampled_at: '2026-11-27T00:00:00.000Z' },
    app: {
      app: 'hello', state: 'running', state_reason: '', state_since: null, version: '1.10.0-beta.3', sha256: 'a'.repeat(64), desired_version: '1.10.0-beta.3', pid: 123456,
      started_at: '2026-11-27T00:00:00.000Z', uptime_s: 7200, restarts: 2, cpu_percent: 1, memory_rss: 80e6, open_files_limit: 1_048_576, releases_present: 3, last_activation: null,
    },
    host_facts: facts, last_outcome_unknown: null,
  });
  const down = { host: 'app-server-9.internal.example.com:7070', ok: false as const, error: { message: 'unreachable: connection refused (is the agent running? is the port open?)', unreachable: true }, last_outcome_unknown: null };
  return {
    command: 'status', ok: false, app: 'hello', env: 'production', at: '2026-11-27T00:00:00.000Z', versions: ['1.10.0-beta.3'], mixed_versions: false,
    agent_versions: ['0.1.0'], not_running: [], unreachable: [down.host], unknown_outcome: [],
    hosts: [...Array.from({ length: hosts }, (_, i) => entry(i + 1)), down],
  } as unknown as Parameters<typeof renderStatus>[0];
}

test('status at 80 columns: every table line fits, the least needed columns are left out and named; the reason of a failed host stays', () => {
  const out = renderStatus(statusDoc(3), { width: 80 });
  const lines = out.trimEnd().split('\n');
  const tableLines = lines.slice(0, 5);
  for (const l of tableLines) assert.ok(visibleWidth(l) <= 80, `${visibleWidth(l)} > 80: ${l}`);
  assert.match(tableLines[0], /^HOST\s+VERSION\s+STATE\b/);
  assert.doesNotMatch(tableLines[0], /NOFILE|AGENT/);
  assert.match(out, /^\(--wide shows APP PID UPTIME RSS NOFILE CPU MEM DISK AGENT\)$/m);
  assert.match(tableLines[4], /^app-server-9\S*\s+-\s+unreachable !\s+unreach\S*…$/);
  assert.match(out, /^! app-server-9\.internal\.example\.com:7070: unreachable: connection refused \(is the agent running\? is the port open\?\)$/m, 'the reason in full under the table');
  // Wider: only what does not fit goes, the least needed first.
  // HOST 38 + VERSION 13 + STATE 13 + PID 6 + UPTIME 6 + RESTARTS 8 + RSS 6 ("76 MiB") + 6 gaps of 2 = 102.
  assert.match(renderStatus(statusDoc(1), { width: 102 }).split('\n')[0], /^HOST\s+VERSION\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+RSS$/);
  assert.match(renderStatus(statusDoc(1), { width: 101 }).split('\n')[0], /^HOST\s+VERSION\s+STATE\s+PID\s+UPTIME\s+RESTARTS$/);
});

test('status without a width (piped) keeps all thirteen columns and no facts; --wide adds OS, CPU MODEL, RAM and FILESYSTEMS', () => {
  const piped = renderStatus(statusDoc(1), {}).split('\n')[0];
  assert.deepEqual(piped.trim().split(/\s+/), ['HOST', 'APP', 'VERSION', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'RSS', 'NOFILE', 'CPU', 'MEM', 'DISK', 'AGENT']);
  const wide = renderStatus(statusDoc(1), { wide: true, width: 80 });
  assert.match(wide.split('\n')[0], /AGENT\s+OS\s+CPU MODEL\s+RAM\s+FILESYSTEMS$/);
  assert.match(wide, /Debian GNU\/Linux 12 x64\s+Intel Xeon Gold 6338 ×8\s+16 GiB\s+\/ ext4 100 GiB/);
  assert.doesNotMatch(wide, /left out/);
  assert.match(wide, /unreachable: connection refused \(is the agent running\? is the port open\?\)$/m, 'nothing cut with --wide');
});

test('the host facts go into the Status answer as they are read (null before)', () => {
  assert.equal(factsMessage(undefined), null);
  assert.deepEqual(factsMessage({ ...facts, memory_total: Number.NaN }), {
    os_distro: 'Debian GNU/Linux', os_release: '12', kernel: '6.1.0', arch: 'x64', cpu_manufacturer: 'Intel', cpu_brand: 'Xeon Gold 6338', cpu_cores: 8, cpu_physical_cores: 4,
    memory_total: 0, filesystems: [{ mount: '/', type: 'ext4', size: 100 * 1024 ** 3 }], read_at: '2026-11-27T00:00:00.000Z',
  });
});
