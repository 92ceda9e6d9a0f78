// Where a measured stretch's CPU went on this machine, by kind of process:
// every process's own CPU plus what it collected from its ended children
// (/proc/PID/stat utime, stime, cutime, cstime), sampled before and after.
// A process that ended in between counts through its parent (a GNU tar
// through its agent, an old app through its supervising process). Printed
// beside benchmark figures, never asserted.
import { readdirSync, readFileSync } from 'node:fs';
import { CLK_TCK } from '../../agent/monitoring/proc-stats.js';

/** Per process: its kind, and seconds of CPU (`s`, of which `sys` in the kernel), its ended children's included. */
export type CpuSample = Map<number, { kind: string; s: number; sys: number }>;

/** The kind a process is counted as, from its name and command line. */
export type Classify = (pid: number, comm: string, cmdline: string[]) => string;

export function sampleCpu(classify: Classify): CpuSample {
  const out: CpuSample = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.set(Number(name), {
        kind: classify(Number(name), comm, cmdline),
        s: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK,
        sys: (Number(f[12]) + Number(f[14])) / CLK_TCK,
      });
    } catch { /* ended while read */ }
  }
  return out;
}

/** Seconds of CPU by kind between two samples, largest first ("agents 4.1 s (kernel 1.0 s), apps 1.2 s (kernel 0.1 s), …"). */
export function cpuBetween(before: CpuSample, after: CpuSample): string {
  const by = new Map<string, { s: number; sys: number }>();
  for (const [pid, p] of after) {
    const was = before.get(pid);
    const same = was && was.kind === p.kind;
    const d = p.s - (same ? was.s : 0);
    if (d <= 0) continue;
    const t = by.get(p.kind) ?? { s: 0, sys: 0 };
    t.s += d;
    t.sys += p.sys - (same ? was.sys : 0);
    by.set(p.kind, t);
  }
  return [...by].sort((a, b) => b[1].s - a[1].s).map(([k, t]) => `${k} ${t.s.toFixed(1)} s (kernel ${t.sys.toFixed(1)} s)`).join(', ');
}
