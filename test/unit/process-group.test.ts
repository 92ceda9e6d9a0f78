// Signalling an app's process group by its recorded pid: only while that pid
// is still the process that started at the recorded time, or gone with its
// children left in the group; never a new process that got the number since
// (pid_max is often 32768, and the pids wrap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { processStartTicks, signalOwnGroup } from '../../agent/runtime/process/proc.js';

async function groupLeader(): Promise<{ pid: number; ticks: number; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const pid = child.pid as number;
  let ticks = processStartTicks(pid);
  while (ticks === undefined) {
    await new Promise((r) => setTimeout(r, 5));
    ticks = processStartTicks(pid);
  }
  return { pid, ticks, exited };
}

test('signalOwnGroup: another start time (a reused pid) is left alone; the recorded one is signalled', async () => {
  const p = await groupLeader();
  assert.equal(signalOwnGroup(p.pid, p.ticks + 1, 'SIGKILL'), false);
  assert.equal(processStartTicks(p.pid), p.ticks, 'the process with the other start time still runs');
  assert.equal(signalOwnGroup(p.pid, p.ticks, 'SIGKILL'), true);
  assert.equal(await p.exited, 'SIGKILL');
});

test('signalOwnGroup: once the leader is gone and its group with it, nothing is signalled and nothing throws', async () => {
  const p = await groupLeader();
  process.kill(-p.pid, 'SIGKILL');
  await p.exited;
  assert.equal(signalOwnGroup(p.pid, p.ticks, 'SIGTERM'), false);
});
