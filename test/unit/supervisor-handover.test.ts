// The hand-over between a supervising process, its holder and its successor:
// what the store keeps and replays, and how an adopted process (not our child)
// is watched: exit noticed by /proc, status read from a zombie or reported
// unknown, a stop under way continued with its deadline, readiness and output
// through handed-over pipes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOVER_VERSION, HandOverStore, type HeldProcess, type PipeName, type RawHandle } from '../../agent/runtime/supervisor/handover.js';
import { AdoptedProcess } from '../../agent/runtime/process/adopted.js';
import { AppLog } from '../../agent/runtime/process/app-log.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import { rawHandleOf } from '../../agent/runtime/process/runner.js';

const v = HANDOVER_VERSION;

function fakeHandle(fd: number): RawHandle & { closed: boolean } {
  return { fd, closed: false, close() { this.closed = true; } };
}

function rec(pid: number, startTicks: number, extra: Partial<HeldProcess> = {}): HeldProcess {
  return {
    app: 'hello', pid, version: '1.0.0', sha256: 'a'.repeat(64), started_at: new Date(0).toISOString(), start_ticks: startTicks,
    sockets: [], log: { dir: '/nonexistent', bytes: 1 << 20, files: 2 }, ready: true, ...extra,
  };
}

test('the store keeps the newest record of each process and replays sockets, then each process with its pipes', () => {
  const store = new HandOverStore(true);
  const sock = fakeHandle(10);
  const out = fakeHandle(11);
  store.apply({ t: 'socket', v, app: 'hello', spec: { name: 'http', host: '127.0.0.1', port: 0 }, port: 41000 }, sock);
  store.apply({ t: 'proc', v, rec: rec(100, 5, { ready: false }) });
  store.apply({ t: 'pipe', v, pid: 100, name: 'stdout' }, out);
  store.apply({ t: 'ready', v, pid: 100 });
  store.apply({ t: 'stopping', v, pid: 100, signal: 'SIGTERM', deadline_ms: 1234 });
  const replay = store.replay();
  assert.deepEqual(replay.map((i) => i.msg.t), ['socket', 'proc', 'pipe']);
  const p = replay[1]?.msg;
  assert.ok(p?.t === 'proc');
  assert.equal(p.rec.ready, true);
  assert.deepEqual(p.rec.stopping, { signal: 'SIGTERM', deadline_ms: 1234 });
  assert.deepEqual(store.socketItems(), [{ app: 'hello', spec: { name: 'http', host: '127.0.0.1', port: 0 }, port: 41000, handle: sock }]);

  store.apply({ t: 'gone', v, pid: 100 });
  assert.equal(out.closed, true, 'the holder closes its copy of a gone process\'s pipe');
  assert.deepEqual(store.replay().map((i) => i.msg.t), ['socket'], 'sockets outlive the processes');
  assert.equal(sock.closed, false);
});

test('a supervising process\'s own store drops a gone process without closing its pipes (its streams do)', () => {
  const store = new HandOverStore(false);
  const out = fakeHandle(11);
  store.apply({ t: 'proc', v, rec: rec(100, 5) });
  store.apply({ t: 'pipe', v, pid: 100, name: 'stdout' }, out);
  store.apply({ t: 'gone', v, pid: 100 });
  assert.equal(out.closed, false);
  assert.equal(store.processes().length, 0);
});

function withLog<T>(fn: (log: AppLog, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'handover-'));
  const log = new AppLog(dir, 1 << 20, 2);
  return fn(log, dir).finally(() => {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('an adopted process: output and READY=1 through its handed-over pipes, its exit noticed without being its parent', async () => {
  await withLog(async (log, dir) => {
    // The child writes a line, then READY=1 on fd 3, then waits to be killed.
    const child = spawn('/bin/sh', ['-c', 'echo before-adoption; sleep 0.3; echo after-adoption; echo READY=1 >&3; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true,
    });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid as number;
    const ticks = processStartTicks(pid) as number;
    const pipes = new Map<PipeName, RawHandle>();
    for (const [name, s] of [['stdout', child.stdout], ['stderr', child.stderr], ['notify', child.stdio[3]]] as const) {
      const h = rawHandleOf(s as NodeJS.ReadableStream as never);
      if (h) pipes.set(name, h);
    }
    const p = new AdoptedProcess(rec(pid, ticks, { ready: false }), pipes, log, 50);
    await p.notifiedReady;
    assert.equal(p.running(), true);
    const info = await p.stop('SIGTERM', 5000);
    assert.equal(info.requested, true);
    assert.equal(p.running(), false);
    child.kill('SIGKILL');
    // The exit note is written by the log's stream: poll for it rather than read once.
    const exitNote = new RegExp(`hello 1\\.0\\.0 pid ${pid} `);
    let text = '';
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 20))) {
      text = readFileSync(join(dir, 'app.log'), 'utf8');
      if (exitNote.test(text)) break;
    }
    assert.match(text, /after-adoption/);
    assert.match(text, exitNote);
  });
});

test('an adopted process that exits by itself: a crash (not requested); a stop begun by the predecessor keeps its deadline', async () => {
  await withLog(async (log) => {
    // Started detached and never waited for by us here: /proc shows it as a zombie, so its status is read.
    const child = spawn('/bin/sh', ['-c', 'sleep 0.2; exit 7'], { stdio: 'ignore', detached: true });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid as number;
    const crashed = new AdoptedProcess(rec(pid, processStartTicks(pid) as number), new Map(), log, 20);
    const e = await crashed.exited;
    assert.equal(e.requested, false);
    // Either read from the zombie, or reaped by Node first: then unknown, never a made-up code.
    if (e.unknown) assert.equal(e.code, null);
    else assert.equal(e.code, 7);

    // SIGTERM ignored; the predecessor's stop deadline (in 300 ms) brings SIGKILL.
    const stubborn = spawn('/bin/sh', ['-c', 'trap "" TERM; sleep 30 & wait'], { stdio: 'ignore', detached: true });
    await new Promise((r) => stubborn.once('spawn', r));
    const spid = stubborn.pid as number;
    const t0 = Date.now();
    const adopted = new AdoptedProcess(rec(spid, processStartTicks(spid) as number, { stopping: { signal: 'SIGTERM', deadline_ms: Date.now() + 300 } }), new Map(), log, 20);
    const s = await adopted.exited;
    assert.equal(s.requested, true, 'a stop begun by the predecessor stays a requested stop');
    assert.ok(Date.now() - t0 >= 250, 'not killed before the deadline');
  });
});
