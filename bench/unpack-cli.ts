// `npm run bench -- unpack [options]`: bench/unpack.ts's pairs alone, on the
// pipeline's cached release (bench/pipeline.ts's prepareRelease).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { benchUnpackPairs, unpackReport, MIN_UNPACK_RUNS } from './unpack.js';
import { prepareRelease, WORK_DIR } from './pipeline.js';
import type { FlushMode } from '../agent/storage/unpack/index.js';

export const UNPACK_USAGE = `usage: npm run bench -- unpack [--runs N] [--quick] [--work DIR] [--flush tree|fs|none] [--compare-flush] [--busy MB/s] [--json]

  --runs N         pairs (ours, GNU tar + sync) in alternating order; default and minimum ${MIN_UNPACK_RUNS}
  --quick          the small release (~4,000 files) instead of ~86,000 files
  --work DIR       where to extract (default bench/.work/; e.g. /dev/shm for tmpfs)
  --flush MODE     ours' durability step: fs (syncfs, with writeback ahead: the default), tree (fsync of what was written), none
  --compare-flush  a third extraction per run with the other flush (tree ↔ fs)
  --busy R         a writer dirties R MB/s on the same file system during each extraction
  --json           one JSON object on stdout (progress on stderr)`;

export async function runUnpackBench(argv: string[]): Promise<number> {
  const o = { runs: MIN_UNPACK_RUNS, quick: false, work: WORK_DIR, flush: 'fs' as FlushMode, compareFlush: false, busy: 0, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => argv[++i] ?? '';
    if (a === '-h' || a === '--help') { console.log(UNPACK_USAGE); return 0; }
    if (a === '--runs') o.runs = Number(v());
    else if (a === '--quick') o.quick = true;
    else if (a === '--work') o.work = v();
    else if (a === '--flush') o.flush = v() as FlushMode;
    else if (a === '--compare-flush') o.compareFlush = true;
    else if (a === '--busy') o.busy = Number(v());
    else if (a === '--json') o.json = true;
    else { console.error(`unknown option ${a}\n\n${UNPACK_USAGE}`); return 2; }
  }
  if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 100) { console.error(`--runs needs a whole number from 1 to 100\n\n${UNPACK_USAGE}`); return 2; }
  if (!['tree', 'fs', 'none'].includes(o.flush)) { console.error(`--flush is tree, fs or none\n\n${UNPACK_USAGE}`); return 2; }
  if (!Number.isFinite(o.busy) || o.busy < 0 || o.busy > 1000) { console.error(`--busy needs MB/s from 0 to 1000\n\n${UNPACK_USAGE}`); return 2; }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const load = loadavg()[0]!;
    const rel = await prepareRelease(o.quick ? 'quick' : 'full', log);
    mkdirSync(o.work, { recursive: true });
    const work = join(o.work, `unpack-run-${process.pid}`);
    const f = await benchUnpackPairs(rel.file, { runs: o.runs, work, flush: o.flush, compareFlush: o.compareFlush, busyMBs: o.busy, signal: controller.signal, log });
    const result = { bench: 'unpack', date: new Date().toISOString(), load: { start: load, end: loadavg()[0]! }, release: { bytes: rel.size, files: rel.tree.files, unpacked_bytes: rel.tree.bytes }, ...f };
    if (o.json) console.log(JSON.stringify(result, null, 1));
    else {
      console.log(`release: ${(rel.size / 1e6).toFixed(1)} MB .tar.gz, ${rel.tree.files} files, ${(rel.tree.bytes / 1e6).toFixed(0)} MB unpacked; load ${result.load.start.toFixed(1)} → ${result.load.end.toFixed(1)}`);
      for (const l of unpackReport(f)) console.log(l);
    }
    return 0;
  } catch (err) {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  }
}
