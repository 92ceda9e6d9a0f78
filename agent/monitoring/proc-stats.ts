// What /proc says about one process (an app's, or the agent's own), read with
// async file reads only: no child process, no systeminformation call (whose
// processLoad() spawns `ps`; dependencies.md §5). The host sampler calls these
// on its timer for the pids the runtimes already know; a scrape never does.
import { readFile } from 'node:fs/promises';

/**
 * Clock ticks per second of /proc/<pid>/stat's utime and stime. Node cannot
 * call sysconf(_SC_CLK_TCK); it is 100 on every Linux architecture Node runs
 * on (the kernel's USER_HZ, fixed by the ABI), so we take that.
 */
export const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
  rssBytes: number;
  /** When the sample was taken (ms, monotonic clock). */
  at: number;
}

/** CPU seconds and RSS of a process, or undefined if it is gone. */
export async function readProcSample(pid: number | 'self'): Promise<ProcSample | undefined> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    // The command name (field 2) is in parentheses and may hold spaces; fields from 3 on follow ") ".
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]); // field 14
    const stime = Number(rest[12]); // field 15
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return {
      cpuSeconds: (utime + stime) / CLK_TCK,
      rssBytes: rss ? Number(rss[1]) * 1024 : 0,
      at: performance.now(),
    };
  } catch {
    return undefined;
  }
}

/** The soft "Max open files" of /proc/<pid>/limits (0 when unlimited or unreadable). */
export async function readOpenFilesLimit(pid: number | 'self'): Promise<number> {
  try {
    return parseOpenFilesLimit(await readFile(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return 0;
  }
}

export function parseOpenFilesLimit(limits: string): number {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return 0;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : 0;
}

/** Percent of one core used between two samples of the same process. */
export function cpuPercent(prev: ProcSample | undefined, cur: ProcSample): number | undefined {
  if (!prev) return undefined;
  const wall = (cur.at - prev.at) / 1000;
  if (wall <= 0) return undefined;
  return Math.max(0, (100 * (cur.cpuSeconds - prev.cpuSeconds)) / wall);
}

/** The host's CPU counters (first line of /proc/stat), in ticks. */
export interface CpuTimes { idle: number; total: number }

export function parseProcStat(stat: string): CpuTimes {
  const f = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user and nice)
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { idle, total };
}

/** Percent of all cores busy between two readings of /proc/stat. */
export function hostCpuPercent(prev: CpuTimes | undefined, cur: CpuTimes): number | undefined {
  if (!prev) return undefined;
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  return Math.min(100, Math.max(0, 100 * (1 - (cur.idle - prev.idle) / dt)));
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kb('MemTotal'), available: kb('MemAvailable') };
}
