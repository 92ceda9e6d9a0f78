// What /proc says about a process: alive or not, and its start time, so a
// recorded pid is only ever signalled if it is still the same process.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** The fields of /proc/<pid>/stat from field 3 (the state) on, or undefined if the process is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    // Our own through the main thread's entry (same fields, same start time): under qemu-user
    // (an arm64 agent on an x86_64 host) /proc/self/stat and /proc/<own pid>/stat are the
    // emulator's stand-ins, with a start time of 0, and the state-dir lock could not be told apart.
    stat = readFileSync(pid === process.pid ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined if gone or a zombie. */
export function processStartTicks(pid: number): number | undefined {
  const rest = statFields(pid);
  if (!rest || rest[0] === 'Z' || rest[0] === 'X') return undefined;
  const ticks = Number(rest[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/**
 * How a process that is not our child ended, if /proc still shows it as a
 * zombie (field 52, the wait status, since Linux 3.5): undefined once its
 * new parent (init, a subreaper) has reaped it, or while it runs.
 */
export function zombieExitStatus(pid: number, startTicks: number): { code: number | null; signal: NodeJS.Signals | null } | undefined {
  const rest = statFields(pid);
  if (!rest || rest[0] !== 'Z' || Number(rest[19]) !== startTicks) return undefined;
  const status = Number(rest[49]);
  if (!Number.isInteger(status)) return undefined;
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? null };
}

export function isSameProcess(pid: number, startTicks: number): boolean {
  return pid > 0 && processStartTicks(pid) === startTicks;
}

/** Signals a process group; false if it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signals the group of the process that started at `startTicks`, also once
 * that process is gone and only its children are left in the group; never a
 * new process that got the same number since (a group's id is not reused
 * while any member lives, so a live process with that pid and another start
 * time means the old group is empty). False if nothing was signalled.
 */
export function signalOwnGroup(pgid: number, startTicks: number, signal: NodeJS.Signals): boolean {
  const now = processStartTicks(pgid);
  if (now !== undefined && now !== startTicks) return false;
  return signalGroup(pgid, signal);
}

/**
 * Ends a process (and its group) that this agent did not start itself, e.g.
 * one left by a killed agent: the stop signal, then SIGKILL at the deadline.
 * Does nothing unless pid still has the recorded start time.
 */
export async function endRecordedProcess(pid: number, startTicks: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  if (!isSameProcess(pid, startTicks)) return false;
  signalGroup(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(pid, startTicks)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  signalGroup(pid, 'SIGKILL');
  while (isSameProcess(pid, startTicks)) await new Promise((r) => setTimeout(r, 10));
  return true;
}
