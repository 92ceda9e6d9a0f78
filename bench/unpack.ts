// The unpack benchmark: our release unpacker (agent/storage/unpack) against
// GNU `tar -xzf`, in pairs, durability counted the same way on both sides.
//   npm run bench -- unpack [--runs 5] [--quick] [--work DIR] [--compare-flush] [--busy MB/s] [--json]
//   (and as part (b) of `npm run bench -- pipeline`)
// Each run is a pair in alternating order (even runs: ours first; odd: GNU
// tar first), each side into a fresh directory (removed at the end; on tmpfs
// at once, untimed):
//   GNU tar   `tar -xzf release.tar.gz -C dir`, then `sync -f dir` (timed
//             apart: GNU tar alone, and GNU tar + sync)
//   ours      unpackTarball(release, dir) with its flush (durable), and the
//             same run's time before its final flush (ours without the
//             flush; the syncfs runs it starts ahead, while GNU tar still
//             extracts, are inside that time), with its profile and the
//             event loop's delay meanwhile (and, as the machine's own
//             noise, the delay while the same process waited for GNU tar)
// and the two ratios of that run: ours / (GNU tar + sync), and ours without
// the flush / GNU tar. The figures are the MEDIANS OF THE PER-RUN RATIOS.
// Before every timed extraction (untimed): `sync`, then, as root, the page
// cache, dentries and inodes are dropped (`echo 3 > /proc/sys/vm/drop_caches`)
// and the tarball read once, so each side starts with the tarball cached and
// nothing else of the other side's work: not its dirty pages, not its
// cached tree. Not root: only the sync and the read (said in the report).
// --compare-flush: a third extraction per run, ours with the other flush
// (fsyncs of every file and directory written instead of syncfs, or back),
// to compare the two durability steps on the same run's disk.
// --busy R: a writer process dirties R MB/s in another file of the same file
// system (no fsync) during every timed extraction: a busy host.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { unpackTarball, type FlushMode, type UnpackProfile } from '../agent/storage/unpack/index.js';

export { generateTree, packTree, type TreeStats } from './release-tree.js';

export const UNPACK_TARGETS = { disk: 1.2, tmpfs: 1.1 } as const;
export const MIN_UNPACK_RUNS = 5;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface UnpackRun {
  order: 'ours first' | 'GNU first';
  gnuMs: number; gnuSyncMs: number;
  /** ours, durable (its flush included). */
  oursMs: number;
  /** ours up to its flush: the same run without the durability step. */
  oursNoFlushMs: number;
  /** ours / (GNU tar + sync -f) and ours without flush / GNU tar, this run. */
  ratio: number; ratioNoFlush: number;
  profile: UnpackProfile;
  /** The agent's event loop (this process's) while ours ran: p99 and max delay, ms. */
  lagP99Ms: number; lagMaxMs: number;
  /** The same while GNU tar ran (this process only waiting for it): the machine's own noise. */
  gnuLagP99Ms: number; gnuLagMaxMs: number;
  /** --compare-flush: ours with flush 'fs' (one syncfs), total and its flush. */
  syncfsMs?: number; syncfsFlushMs?: number;
  loadStart: number;
}

export interface UnpackFigures {
  runs: UnpackRun[];
  flush: FlushMode;
  fsType: string;
  cache: 'dropped' | 'synced only';
  busyMBs: number;
  medianRatio: number; medianRatioNoFlush: number;
  medianGnuMs: number; medianGnuSyncMs: number; medianOursMs: number; medianOursNoFlushMs: number;
  /** Median over the runs of each run's p99 (and the largest max), during ours and during GNU tar. */
  lagP99Ms: number; lagMaxMs: number; gnuLagP99Ms: number;
  target: number;
  entries: number;
}

const isRoot = () => process.getuid?.() === 0;

/** The file system type of `dir` (GNU stat), e.g. ext4, tmpfs. */
export function fsTypeOf(dir: string): string {
  const r = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** Untimed, before each timed extraction: nothing dirty, (as root) nothing cached but the tarball. */
function equalise(tarball: string): void {
  spawnSync('sync');
  if (isRoot()) {
    try { writeFileSync('/proc/sys/vm/drop_caches', '3'); } catch { /* a container may forbid it: then only synced */ }
  }
  const fd = openSync(tarball, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try { while (readSync(fd, buf, 0, buf.length, null) > 0) { /* into the page cache */ } } finally { closeSync(fd); }
}

function canDropCaches(): boolean {
  if (!isRoot()) return false;
  try { writeFileSync('/proc/sys/vm/drop_caches', '1'); return true; } catch { return false; }
}

function timed(cmd: string, args: string[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr.on('data', (c: Buffer) => { if (err.length < 4000) err += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/**
 * A busy host: a shell loop that writes `mbs` MB each second into `file`,
 * going round a 1 GiB region (so the file stays that size), never fsynced:
 * its dirty pages pile up until the kernel's writeback, or a sync, takes them.
 */
function startBusyWriter(file: string, mbs: number): ChildProcess {
  const n = Math.max(1, Math.round(mbs));
  const slots = Math.max(1, Math.floor(1024 / n));
  const script = `i=0; while :; do dd if=/dev/zero of="$1" bs=1M count=${n} seek=$(( (i % ${slots}) * ${n} )) conv=notrunc status=none; i=$((i+1)); sleep 1; done`;
  return spawn('sh', ['-c', script, 'sh', file], { stdio: 'ignore' });
}

async function ours(tarball: string, dest: string, flush: FlushMode, signal?: AbortSignal): Promise<{ ms: number; profile: UnpackProfile; entries: number; lagP99Ms: number; lagMaxMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  const r = await unpackTarball(tarball, dest, { signal, flush });
  const ms = performance.now() - t;
  h.disable();
  return { ms, profile: r.profile, entries: r.entries, lagP99Ms: h.percentile(99) / 1e6, lagMaxMs: h.max / 1e6 };
}

/**
 * `work` must not exist; it is made and removed. `flush`: ours' durability
 * step (default: the unpacker's default).
 */
export async function benchUnpackPairs(tarball: string, opts: {
  runs: number; work: string; flush?: FlushMode; compareFlush?: boolean; busyMBs?: number;
  signal?: AbortSignal; log?: (s: string) => void;
}): Promise<UnpackFigures> {
  const { work, signal } = opts;
  const log = opts.log ?? (() => undefined);
  const flush = opts.flush ?? 'fs';
  mkdirSync(work, { recursive: true });
  const fsType = fsTypeOf(work);
  const cache = canDropCaches() ? 'dropped' : 'synced only';
  const busy = opts.busyMBs ? startBusyWriter(join(work, 'busy-writer.bin'), opts.busyMBs) : undefined;
  const runs: UnpackRun[] = [];
  let entries = 0;
  // On disk, trees are kept until the end, not removed between runs: on a file
  // system mounted with -o discard each unlink waits for the device (an
  // 86,000-file tree took over 10 minutes to remove here under load), which
  // would hold up the bench and put the removal's I/O into the next timed run.
  // On tmpfs each is removed at once (untimed): kept there, they are memory,
  // and 5.4 GB of earlier trees in /dev/shm slowed both sides (GNU tar 2.5 s
  // → 3.2 s, ours 3.3 s → 3.6-4.6 s, measured).
  const done = join(work, 'done');
  mkdirSync(done);
  const keep = (d: string) => (fsType === 'tmpfs' ? rmSync(d, { recursive: true, force: true }) : renameSync(d, join(done, basename(d))));
  const s = (ms: number) => (ms / 1000).toFixed(2);
  try {
    for (let i = 0; i < opts.runs; i++) {
      const loadStart = loadavg()[0]!;
      const oursFirst = i % 2 === 0;
      let gnuMs = 0;
      let gnuSyncMs = 0;
      let gnuLag = { p99: 0, max: 0 };
      let o: Awaited<ReturnType<typeof ours>> | undefined;
      let fs: Awaited<ReturnType<typeof ours>> | undefined;
      const gnu = async () => {
        const d = join(work, `gnu-${i}`);
        mkdirSync(d);
        equalise(tarball);
        const h = monitorEventLoopDelay({ resolution: 1 });
        h.enable();
        gnuMs = await timed('tar', ['-xzf', tarball, '-C', d], signal);
        h.disable();
        gnuLag = { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
        gnuSyncMs = await timed('sync', ['-f', d], signal);
        keep(d);
      };
      const oursRun = async (mode: FlushMode) => {
        const d = join(work, `ours-${mode}-${i}`);
        equalise(tarball);
        const r = await ours(tarball, d, mode, signal);
        keep(d);
        return r;
      };
      if (oursFirst) { o = await oursRun(flush); await gnu(); } else { await gnu(); o = await oursRun(flush); }
      if (opts.compareFlush) fs = await oursRun(flush === 'fs' ? 'tree' : 'fs');
      entries = o.entries;
      const noFlush = o.ms - o.profile.flushMs;
      const run: UnpackRun = {
        order: oursFirst ? 'ours first' : 'GNU first', gnuMs, gnuSyncMs, oursMs: o.ms, oursNoFlushMs: noFlush,
        ratio: o.ms / (gnuMs + gnuSyncMs), ratioNoFlush: noFlush / gnuMs, profile: o.profile,
        lagP99Ms: o.lagP99Ms, lagMaxMs: o.lagMaxMs, gnuLagP99Ms: gnuLag.p99, gnuLagMaxMs: gnuLag.max, loadStart,
        ...(fs ? { syncfsMs: fs.ms, syncfsFlushMs: fs.profile.flushMs } : {}),
      };
      runs.push(run);
      const p = o.profile;
      log(`unpack run ${i + 1}/${opts.runs} (${run.order}, load ${loadStart.toFixed(1)}): GNU tar ${s(gnuMs)} + sync ${s(gnuSyncMs)} = ${s(gnuMs + gnuSyncMs)} s; ` +
        `ours ${s(o.ms)} s (flush ${s(p.flushMs)}) → ${run.ratio.toFixed(2)}×; without flush ${s(noFlush)} vs ${s(gnuMs)} → ${run.ratioNoFlush.toFixed(2)}×; ` +
        `profile: read ${s(p.readMs)}, inflate ${s(p.inflateMs)}, check ${s(p.checkMs)}, wait for GNU tar ${s(p.handOverMs)}, ` +
        `pass 1 done at ${s(p.scannedAt)}, extracted at ${s(p.extractedAt)}, verify ${s(p.verifyMs)} (${p.verifiedEarly} files found early), flush ${s(p.flushMs)}; ` +
        `event loop p99 ${o.lagP99Ms.toFixed(1)} ms, max ${o.lagMaxMs.toFixed(1)} ms (while GNU tar ran: ${gnuLag.p99.toFixed(1)}, ${gnuLag.max.toFixed(1)}); ` +
        `writebacks ahead ${p.writebacksAhead}` +
        (fs ? `; with the other flush (${flush === 'fs' ? 'tree' : 'fs'}): ${s(fs.ms)} s, its flush ${s(fs.profile.flushMs)}` : ''));
    }
  } finally {
    busy?.kill('SIGKILL');
    if (fsType !== 'tmpfs') log(`removing ${runs.length * (opts.compareFlush ? 3 : 2)} extracted trees (untimed; slow where the file system discards on unlink)`);
    rmSync(work, { recursive: true, force: true });
  }
  return {
    runs, flush, fsType, cache, busyMBs: opts.busyMBs ?? 0,
    medianRatio: median(runs.map((r) => r.ratio)), medianRatioNoFlush: median(runs.map((r) => r.ratioNoFlush)),
    medianGnuMs: median(runs.map((r) => r.gnuMs)), medianGnuSyncMs: median(runs.map((r) => r.gnuMs + r.gnuSyncMs)),
    medianOursMs: median(runs.map((r) => r.oursMs)), medianOursNoFlushMs: median(runs.map((r) => r.oursNoFlushMs)),
    lagP99Ms: median(runs.map((r) => r.lagP99Ms)), lagMaxMs: Math.max(...runs.map((r) => r.lagMaxMs)),
    gnuLagP99Ms: median(runs.map((r) => r.gnuLagP99Ms)),
    target: fsType === 'tmpfs' ? UNPACK_TARGETS.tmpfs : UNPACK_TARGETS.disk,
    entries,
  };
}

/** The report's lines: every run's pair and profile, then the medians of the per-run ratios. */
export function unpackReport(f: UnpackFigures): string[] {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const lines = [
    `unpack on ${f.fsType}, ours with flush '${f.flush}'; page cache ${f.cache === 'dropped' ? 'dropped (sync; drop_caches 3; tarball re-read)' : 'NOT dropped (not root): sync and tarball re-read only'} before every extraction` +
      (f.busyMBs ? `; a writer dirtied ${f.busyMBs} MB/s meanwhile` : ''),
    'run  order       load  GNU tar  +sync   = durable | ours   (flush)  w/o flush | ratio  w/o flush | read  inflate check  wait  pass1@ tar@   verify | lag p99/max ms (GNU tar\'s run)',
  ];
  f.runs.forEach((r, i) => {
    const p = r.profile;
    lines.push(`${String(i + 1).padEnd(4)} ${r.order.padEnd(11)} ${r.loadStart.toFixed(1).padStart(4)}  ${s(r.gnuMs).padStart(7)} ${s(r.gnuSyncMs).padStart(6)}  ${s(r.gnuMs + r.gnuSyncMs).padStart(7)} | ` +
      `${s(r.oursMs).padStart(6)} (${s(p.flushMs).padStart(5)})  ${s(r.oursNoFlushMs).padStart(8)} | ${r.ratio.toFixed(2).padStart(5)}× ${r.ratioNoFlush.toFixed(2).padStart(8)}× | ` +
      `${s(p.readMs)} ${s(p.inflateMs).padStart(6)} ${s(p.checkMs).padStart(5)} ${s(p.handOverMs).padStart(5)} ${s(p.scannedAt).padStart(6)} ${s(p.extractedAt).padStart(6)} ${s(p.verifyMs).padStart(6)} | ` +
      `${r.lagP99Ms.toFixed(1)}/${r.lagMaxMs.toFixed(1)} (${r.gnuLagP99Ms.toFixed(1)}/${r.gnuLagMaxMs.toFixed(1)})` +
      (r.syncfsMs !== undefined ? ` | other flush: ${s(r.syncfsMs)} s (flush ${s(r.syncfsFlushMs!)})` : ''));
  });
  lines.push(`median per-run ratio ours / (GNU tar + sync -f): ${f.medianRatio.toFixed(2)}× (target ≤ ${f.target}× on ${f.fsType === 'tmpfs' ? 'tmpfs' : 'disk'}: ${f.medianRatio <= f.target ? 'PASS' : 'MISS'})`);
  lines.push(`median per-run ratio ours without flush / GNU tar: ${f.medianRatioNoFlush.toFixed(2)}×`);
  lines.push(`medians (s): GNU tar ${s(f.medianGnuMs)}, GNU tar + sync ${s(f.medianGnuSyncMs)}, ours ${s(f.medianOursMs)}, ours without flush ${s(f.medianOursNoFlushMs)}; ` +
    `event loop delay during ours: p99 ${f.lagP99Ms.toFixed(1)} ms (median of the runs), max ${f.lagMaxMs.toFixed(1)} ms; ` +
    `the same process idle while GNU tar ran: p99 ${f.gnuLagP99Ms.toFixed(1)} ms`);
  return lines;
}
