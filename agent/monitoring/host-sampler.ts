// Host and app figures, sampled on a timer and cached, so that /metrics,
// /status and the Status RPC only ever read memory: a scrape never waits on
// a file read, a shell-out or a systeminformation call.
//
// What we read, and why (dependencies.md §5 measured the alternatives):
//   CPU %          /proc/stat, async read (≈1 ms). Not si.currentLoad(): it runs
//                  execSync('cat /proc/stat | grep cpu') and blocks the loop ~10 ms,
//                  and its first call answers the average since boot.
//   load1, uptime  os.loadavg(), os.uptime(): one syscall each.
//   memory         /proc/meminfo, async read (MemTotal, MemAvailable): what si.mem()
//                  reads too, without loading systeminformation.
//   disk           fs.promises.statfs(state_dir): the disk that matters, and no `df`
//                  (si.fsSize() spawns df, mount and lsblk: ~16 ms).
//   apps           /proc/<pid>/stat, /status, /limits of the pids the runtimes know
//                  (proc-stats.ts); not si.processLoad(), which spawns ps.
// So systeminformation is not loaded by the agent at all.
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { AppRuntime } from '../runtime/app-runtime.js';
import { readProcSample, readOpenFilesLimit, cpuPercent, parseProcStat, hostCpuPercent, parseMeminfo, type ProcSample, type CpuTimes } from './proc-stats.js';

export const DEFAULT_SAMPLE_INTERVAL_S = 10;

/** Per-app figures of the last sample. */
export interface AppFigures {
  pid: number;
  /** Percent of one core over the last interval (undefined until two samples of the same pid). */
  cpu_percent?: number;
  memory_rss: number;
  open_files_limit: number;
  releases_present: number;
}

/** The host's figures (the Status RPC's HostInfo, with plain numbers). */
export interface HostFigures {
  /** All cores, percent busy over the last sample interval. */
  cpu_percent: number;
  load1: number;
  memory_total: number;
  memory_available: number;
  /** The state dir: the disk that matters. */
  disk_path: string;
  disk_total: number;
  disk_free: number;
  uptime_s: number;
  sampled_at: string;
}

export interface SamplerSource {
  stateDir: string;
  /** A runtime for every app on this host. */
  runtimes(): Promise<AppRuntime[]>;
  /** How many releases of the app the host has (stored or unpacked). */
  releaseCount(app: string): Promise<number>;
}

export interface Clock { now(): number }

export class HostSampler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private prevCpu?: CpuTimes;
  private readonly prevProc = new Map<string, { pid: number; sample: ProcSample }>();
  private hostInfo?: HostFigures;
  private figures = new Map<string, AppFigures>();
  private apps: AppRuntime[] = [];
  /** The agent's own soft open-file limit (read at start; it does not change while we run). */
  agentOpenFilesLimit = 0;
  /** How many samples have completed (tests and /status use it to know figures are fresh). */
  samples = 0;

  constructor(private readonly source: SamplerSource, readonly intervalMs: number, private readonly onError: (err: unknown) => void = () => {}) {}

  async start(): Promise<void> {
    this.agentOpenFilesLimit = await readOpenFilesLimit('self');
    // A first reading now, so the next sample has a CPU interval to measure (never "since boot").
    this.prevCpu = parseProcStat(await readFile('/proc/stat', 'utf8'));
    await this.sampleNow();
    this.timer = setInterval(() => void this.sampleNow(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The host's figures of the last sample. */
  host(): HostFigures | undefined { return this.hostInfo; }

  /** The app's figures of the last sample. */
  app(app: string): AppFigures | undefined { return this.figures.get(app); }

  /** The runtimes of every app, as of the last sample (or refresh). */
  runtimes(): AppRuntime[] { return this.apps; }

  /**
   * Samples now (after the one in progress, if any). Called by the timer, and
   * after an activation so that releases_present and the app list are fresh.
   */
  sampleNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.sample();
        } catch (err) {
          this.onError(err);
        }
      } while (this.again);
    })().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async sample(): Promise<void> {
    const [stat, meminfo, fs] = await Promise.all([
      readFile('/proc/stat', 'utf8'),
      readFile('/proc/meminfo', 'utf8'),
      statfs(this.source.stateDir),
    ]);
    const cpu = parseProcStat(stat);
    const cpuPct = hostCpuPercent(this.prevCpu, cpu);
    this.prevCpu = cpu;
    const mem = parseMeminfo(meminfo);
    this.hostInfo = {
      cpu_percent: cpuPct ?? this.hostInfo?.cpu_percent ?? 0,
      load1: os.loadavg()[0],
      memory_total: mem.total || os.totalmem(),
      memory_available: mem.available || os.freemem(),
      disk_path: this.source.stateDir,
      disk_total: Number(fs.blocks) * Number(fs.bsize),
      disk_free: Number(fs.bavail) * Number(fs.bsize),
      uptime_s: os.uptime(),
      sampled_at: new Date().toISOString(),
    };

    const runtimes = await this.source.runtimes();
    const figures = new Map<string, AppFigures>();
    await Promise.all(runtimes.map(async (rt) => {
      const pid = rt.running?.pid ?? 0;
      const releases_present = await this.source.releaseCount(rt.app).catch(() => 0);
      let f: AppFigures = { pid, memory_rss: 0, open_files_limit: 0, releases_present };
      if (pid > 0) {
        const [s, limit] = await Promise.all([readProcSample(pid), readOpenFilesLimit(pid)]);
        if (s) {
          const prev = this.prevProc.get(rt.app);
          f = { ...f, cpu_percent: cpuPercent(prev?.pid === pid ? prev.sample : undefined, s), memory_rss: s.rssBytes, open_files_limit: limit };
          this.prevProc.set(rt.app, { pid, sample: s });
        }
      } else {
        this.prevProc.delete(rt.app);
      }
      figures.set(rt.app, f);
    }));
    this.apps = runtimes;
    this.figures = figures;
    this.samples++;
  }
}
