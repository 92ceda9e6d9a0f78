// What a rollout shows (the lines each event makes, the plain renderer) and
// what it records per host (the fold behind the summary and --json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { linesFor, plainRenderer, ttyRenderer } from '../../coordinator/rollout/render.js';
import { HostRecords } from '../../coordinator/rollout/records.js';
import type { AgentEvent, RolloutEvent } from '../../coordinator/rollout/events.js';

// Colour is off unless stdout is a terminal; make sure of it.
process.env.NO_COLOR = '1';

const ev = (event: string, message: string, over: Partial<AgentEvent> = {}): AgentEvent => ({ event, at: '2026-11-27T10:00:00.000Z', message, elapsed_s: 1.5, pid: 42, output: [], ...over });
const to = { version: '1.1.0', sha256: 'b'.repeat(64), undo: true };

test('lines: uploads, batches (only when there are several), activation events, failures and the fleet-wide lines', () => {
  const deploy = { name: 'deploy' };
  const text = (e: RolloutEvent, o: { name: string; showMoves?: boolean } = deploy) => linesFor(e, o).map((l) => `${l.label}|${l.text}`);
  assert.deepEqual(text({ type: 'upload_skipped', host: 'h1', release: { app: 'hello', version: '1.1.0', sha256: 'a'.repeat(64) } }), ['h1|already has hello 1.1.0 (aaaaaaaaaaaa): nothing to send']);
  assert.deepEqual(text({ type: 'upload_started', host: 'h1', size: 3 << 20 }), ['h1|uploading 3.0 MiB']);
  assert.deepEqual(text({ type: 'upload_done', host: 'h1', bytes: 2048, alreadyStored: false, channel: 'grpc', fallback: 'upload_listen: false' }), [
    'h1|sent over gRPC, not the data port: upload_listen: false', 'h1|uploaded 2.0 KiB',
  ]);
  assert.deepEqual(text({ type: 'upload_progress', host: 'h1', sent: 1, size: 2 }), []);
  assert.deepEqual(text({ type: 'batch_started', index: 0, count: 1, hosts: ['h1'] }), []);
  assert.deepEqual(text({ type: 'batch_started', index: 1, count: 3, hosts: ['h2', 'h3'] }), ['batch 2/3|h2, h3']);
  assert.deepEqual(text({ type: 'host_event', host: 'h1', phase: 'forward', action: 'activate', event: ev('ready', 'ready after 0.4 s') }), ['h1|  +1.50s ready       ready after 0.4 s']);
  assert.deepEqual(text({ type: 'host_event', host: 'h1', phase: 'forward', action: 'activate', event: ev('failed', 'exited', { output: ['boom'] }) }), ['h1|  +1.50s failed      exited', 'h1|  | boom']);
  assert.deepEqual(text({ type: 'host_event', host: 'h1', phase: 'forward', action: 'control', event: ev('done', 'restarted') }), ['h1|done        restarted']);
  assert.deepEqual(text({ type: 'host_result', host: 'h1', phase: 'forward', action: 'activate', ok: false, error: { message: 'unreachable: connection refused', unreachable: true }, callFailed: true }), ['h1|activation failed: unreachable: connection refused']);
  assert.deepEqual(text({ type: 'host_result', host: 'h1', phase: 'forward', action: 'activate', ok: false, error: { message: 'exited', unreachable: false } }), []);
  assert.deepEqual(text({ type: 'interrupted' }, { name: 'rollback' }), ['rollback|interrupted: stopping after this batch; hosts not reached keep their version']);
  assert.deepEqual(text({ type: 'revert_started', hosts: ['h1', 'h2'], revert: 'all' }), ['deploy|a host failed: putting h1, h2 back (revert: all)']);
  const started: RolloutEvent = { type: 'host_started', host: 'h1', phase: 'forward', action: { kind: 'activate', to, reason: 'rollback' }, from: { version: '1.2.0', sha256: 'c'.repeat(64) } };
  assert.deepEqual(text(started), []);
  assert.deepEqual(text(started, { name: 'rollback', showMoves: true }), ['h1|1.2.0 → 1.1.0']);
});

test('the plain renderer writes each line as "label  text" on its stream', () => {
  const out: string[] = [];
  const r = plainRenderer({ name: 'deploy' }, (s) => out.push(s));
  r.event({ type: 'upload_started', host: '127.0.0.1:7070', size: 10 });
  r.note('127.0.0.1:7071', 'not locked: unreachable');
  r.stop();
  assert.deepEqual(out, ['127.0.0.1:7070  uploading 10 B\n', '127.0.0.1:7071  not locked: unreachable\n']);
});

test('records: each host\'s outcome, upload, events and state, folded from the events', () => {
  const rec = new HostRecords(['h1', 'h2', 'h3']);
  const events: RolloutEvent[] = [
    { type: 'inspected', host: 'h1', before: { version: '1.0.0', sha256: 'a'.repeat(64) } },
    { type: 'upload_done', host: 'h1', bytes: 100, alreadyStored: false, channel: 'grpc', fallback: 'data port 7071: ECONNREFUSED' },
    { type: 'upload_skipped', host: 'h2', release: { app: 'hello', version: '1.1.0', sha256: 'b'.repeat(64) } },
    { type: 'host_event', host: 'h1', phase: 'forward', action: 'activate', event: ev('done', 'live', { pid: 7 }) },
    { type: 'host_result', host: 'h1', phase: 'forward', action: 'activate', ok: true },
    { type: 'host_event', host: 'h2', phase: 'forward', action: 'activate', event: ev('failed', 'exited', { pid: 0, output: ['boom'] }) },
    { type: 'host_result', host: 'h2', phase: 'forward', action: 'activate', ok: false, error: { message: 'exited', unreachable: false } },
    { type: 'host_result', host: 'h1', phase: 'revert', action: 'activate', ok: true },
    { type: 'settled', host: 'h1', state: 'running 1.0.0', pid: 8, ok: false },
  ];
  for (const e of events) rec.apply(e);
  const [h1, h2, h3] = rec.list();
  assert.deepEqual(h1, {
    host: 'h1', ok: false, outcome: 'reverted', upload: 'sent', uploaded_bytes: 100, upload_channel: 'grpc', before: { version: '1.0.0', sha256: 'a'.repeat(64) },
    state: 'running 1.0.0', pid: 8, events: [{ event: 'done', at: '2026-11-27T10:00:00.000Z', message: 'live' }], output: [], upload_fallback: 'data port 7071: ECONNREFUSED',
  });
  assert.deepEqual([h2.outcome, h2.upload, h2.upload_channel, h2.output, h2.error], ['failed', 'skipped', null, ['boom'], { message: 'exited', unreachable: false }]);
  assert.deepEqual([h3.outcome, h3.ok, h3.upload], ['not_reached', false, 'not_started']);

  const gated = new HostRecords(['h1', 'h2']);
  gated.apply({ type: 'stopped_before_activation', why: 'before_activate_failed', message: 'before_activate failed on h1' });
  assert.ok(gated.list().every((r) => r.outcome === 'not_reached' && r.error?.message === 'before_activate failed on h1'));
});

/** A stream that looks like a terminal to cli-progress and keeps what is written, escape codes removed. */
function fakeTerminal() {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } }) as Writable & { isTTY: boolean; columns: number };
  stream.isTTY = true;
  stream.columns = 100;
  // eslint-disable-next-line no-control-regex
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
}

test('the terminal renderer shows every line: before any bar, beside the bars, and the last ones before it stops', () => {
  const term = fakeTerminal();
  const r = ttyRenderer({ name: 'rollback', showMoves: true }, term.stream);
  r.event({ type: 'host_event', host: 'h1', phase: 'forward', action: 'activate', event: ev('done', 'back on 1.0.0') });
  assert.match(term.text(), /h1 {2}\s+\+1\.50s done\s+back on 1\.0\.0/, 'no bar yet: written at once');
  r.event({ type: 'upload_progress', host: 'h2', sent: 5, size: 10 });
  r.event({ type: 'upload_done', host: 'h2', bytes: 10, alreadyStored: false, channel: 'data-port' });
  r.stop();
  assert.match(term.text(), /h2 {2}uploaded 10 B/);
  assert.match(term.text(), /h2 +\[.*\] \d+% upload/);
});
