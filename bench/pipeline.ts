// Longer than ~300 lines on purpose: one benchmark of the deploy pipeline (upload, unpack, hashing) whose parts share the agent, the release and the report.
// The pipeline benchmark: what a deploy costs on the wire and on disk, each
// figure against a baseline the machine sets.
//   (a) upload: AgentConnection.upload to a real agent over loopback without
//       TLS (the default path: BeginUpload, then the agent's data port; beside
//       it, over mTLS with a signed release, and gRPC's Upload stream, the
//       fallback), against the same bytes over a plain TCP socket (upload-baseline.ts)
//   (b) unpack: agent/storage/unpack's unpackTarball against GNU `tar -xzf`
//   (c) re-deploy of a stored release: ListReleases + the skip decision that
//       `slipway deploy` makes, and a real Upload of the same sha256 (0 bytes)
// The release is a node_modules-like tree from bench/unpack.ts (about 100 MB
// .tar.gz); it is generated once and cached under bench/.work/pipeline-<key>/
// (gitignored), keyed by the tree options and the generator's code.
// Longer than ~300 lines on purpose: one benchmark: its method, baselines (plain TCP, GNU tar) and report kept together.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree, packTree, type TreeStats } from './release-tree.js';
import { benchUnpackPairs, MIN_UNPACK_RUNS, type UnpackFigures } from './unpack.js';
import { startReceiver, sendFile } from './upload-baseline.js';
import { LocalAgent } from '../scripts/local-fleet.js';
import { AgentConnection } from '../coordinator/client.js';
import { makePki } from '../scripts/pki.js';
import { readPrivateKey, signRelease, sha256Hex } from '../common/signing.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from bench/ (tsx) and from dist/bench/. */
export const REPO_ROOT = existsSync(join(here, '..', 'package.json')) ? join(here, '..') : join(here, '..', '..');
export const WORK_DIR = join(REPO_ROOT, 'bench', '.work');

export const SIZES = {
  /** ~86,000 files, ~460 MB unpacked, ~100 MB .tar.gz: bench/unpack.ts's defaults. */
  full: { files: 86_000, approxBytes: 460_000_000 },
  /** ~4,000 files, ~21 MB unpacked, ~5 MB .tar.gz: to check the bench itself works. */
  quick: { files: 4_000, approxBytes: 21_000_000 },
} as const;

export const TARGETS = { uploadRatio: 0.8 } as const;

const MiB = 1024 * 1024;

/**
 * Time for an agent to finish its start-up work after it listens (an agent
 * that reconciles its apps just after listening removes the temp files of
 * an upload that raced it), so that only the upload is measured.
 */
const SETTLE_MS = 1500;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Processes whose command line names `dir`: what an agent in that temp dir
 * left behind when it stopped (a supervisor it started detached, in its own
 * session, lives on by design). Linux /proc; elsewhere none are found.
 */
function pidsNaming(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) pids.push(Number(e));
    } catch { /* gone */ }
  }
  return pids;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try { process.kill(pid, sig); } catch { /* gone */ }
  }
}

/** SIGTERM, then after 3 s SIGKILL, to every process still naming `dir`. */
async function stopProcessesNaming(dir: string): Promise<void> {
  signal(pidsNaming(dir), 'SIGTERM');
  for (let waited = 0; waited < 3000 && pidsNaming(dir).length; waited += 50) await new Promise((r) => setTimeout(r, 50));
  signal(pidsNaming(dir), 'SIGKILL');
}

/** What the bench started, so that it can all be stopped: on success, on error and on Ctrl-C. */
export class Cleanup {
  private readonly agents = new Set<LocalAgent>();
  private readonly stops = new Set<() => Promise<void>>();
  private readonly dirs = new Set<string>();
  readonly controller = new AbortController();

  private stopping = false;

  /** Registers an agent before it starts; once stopping, refuses (the bench is ending). */
  agent(a: LocalAgent): LocalAgent {
    if (this.stopping) throw new Error('the bench is stopping');
    this.agents.add(a);
    return a;
  }
  async stopAgent(a: LocalAgent): Promise<void> { await a.stop(); this.agents.delete(a); }
  stopper(fn: () => Promise<void>): () => Promise<void> {
    const once = async () => { this.stops.delete(once); await fn(); };
    this.stops.add(once);
    return once;
  }
  dir(d: string): string {
    if (this.stopping) { rmSync(d, { recursive: true, force: true }); throw new Error('the bench is stopping'); }
    this.dirs.add(d);
    return d;
  }
  /** Stops whatever still runs from `d` (see pidsNaming), then removes it. */
  async removeDir(d: string): Promise<void> {
    await stopProcessesNaming(d);
    rmSync(d, { recursive: true, force: true });
    this.dirs.delete(d);
  }

  /** Stops every agent and child still running and removes every temp dir. */
  async all(): Promise<void> {
    this.stopping = true;
    this.controller.abort();
    await Promise.allSettled([...this.agents].map((a) => a.stop()));
    this.agents.clear();
    await Promise.allSettled([...this.stops].map((fn) => fn()));
    await Promise.allSettled([...this.dirs].map((d) => this.removeDir(d)));
  }

  /** Last resort at process exit (synchronous): SIGKILL whatever is left. */
  killSync(): void {
    for (const a of this.agents) if (a.child && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    for (const d of this.dirs) {
      try {
        signal(pidsNaming(d), 'SIGKILL');
        rmSync(d, { recursive: true, force: true });
      } catch { /* best effort */ }
    }
  }
}

export interface Release {
  file: string; sha256: string; size: number; tree: TreeStats; cached: boolean; cacheDir: string; prepareMs: number;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: MiB }).on('data', (c) => h.update(c)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** The generator's code: a change to it makes a new cache key. */
function generatorSource(): string {
  for (const f of ['release-tree.js', 'release-tree.ts']) {
    const p = join(here, f);
    if (existsSync(p)) return readFileSync(p, 'utf8');
  }
  return '';
}

/**
 * The release tarball, from the cache if it is there and intact, else made
 * (tree generated, packed with GNU tar + gzip -6, tree removed). Other
 * pipeline-* cache dirs (other sizes or generator versions) are removed.
 */
export async function prepareRelease(size: keyof typeof SIZES, log: (s: string) => void): Promise<Release> {
  const started = performance.now();
  const opts = SIZES[size];
  const key = createHash('sha256').update(JSON.stringify(opts)).update(generatorSource()).digest('hex').slice(0, 12);
  const cacheDir = join(WORK_DIR, `pipeline-${size}-${key}`);
  const file = join(cacheDir, 'release.tar.gz');
  const metaFile = join(cacheDir, 'release.json');
  mkdirSync(WORK_DIR, { recursive: true });
  for (const d of readdirSync(WORK_DIR)) {
    if (d.startsWith(`pipeline-${size}-`) && join(WORK_DIR, d) !== cacheDir) {
      log(`removing stale cache ${join('bench', '.work', d)}`);
      rmSync(join(WORK_DIR, d), { recursive: true, force: true });
    }
  }
  if (existsSync(metaFile) && existsSync(file)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { sha256: string; size: number; tree: TreeStats };
    // Hashing also brings the tarball into the page cache, as a just-built release would be.
    if (statSync(file).size === meta.size && (await sha256File(file)) === meta.sha256) {
      log(`release: cached ${file.slice(REPO_ROOT.length + 1)} (delete bench/.work/ to regenerate)`);
      return { file, sha256: meta.sha256, size: meta.size, tree: meta.tree, cached: true, cacheDir, prepareMs: performance.now() - started };
    }
    log('release: cache is damaged; regenerating');
  }
  const tmp = `${cacheDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    log(`release: generating a node_modules-like tree (${opts.files} files, ~${Math.round(opts.approxBytes / 1e6)} MB) — once, then cached`);
    const tree = generateTree(join(tmp, 'tree'), opts);
    log('release: packing it with GNU tar | gzip -6');
    await packTree(join(tmp, 'tree'), join(tmp, 'release.tar.gz'));
    rmSync(join(tmp, 'tree'), { recursive: true, force: true });
    const tsize = statSync(join(tmp, 'release.tar.gz')).size;
    const sha256 = await sha256File(join(tmp, 'release.tar.gz'));
    writeFileSync(join(tmp, 'release.json'), `${JSON.stringify({ sha256, size: tsize, tree, options: opts, generated_at: new Date().toISOString() }, null, 1)}\n`);
    rmSync(cacheDir, { recursive: true, force: true });
    renameSync(tmp, cacheDir);
    return { file, sha256, size: tsize, tree, cached: false, cacheDir, prepareMs: performance.now() - started };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export interface UploadFigures {
  /** The default path: BeginUpload, then the bytes over the agent's data port (agent/transport/data-port.ts), no TLS. */
  agentMs: number[]; baselineMs: number[];
  agentMiBs: number; baselineMiBs: number; ratio: number;
  /** The same over mTLS (ECDSA P-256 certificates from scripts/pki.ts) with a signed release checked by the agent. */
  mtlsMs: number[]; mtlsMiBs: number; mtlsRatio: number;
  /** gRPC's Upload stream (the fallback), no TLS. */
  grpcMs: number[]; grpcMiBs: number; grpcRatio: number;
}

/**
 * (a) Each run: for each of data port over mTLS, data port without TLS and
 * gRPC Upload without TLS, a fresh agent (own temp state dir, on 127.0.0.1),
 * 1.5 s to settle, one Status call to open the channel, then the timed
 * upload; and a fresh receiver child, then the timed plain-TCP send.
 * Alternated, so neither side gets a warmer page cache or disk.
 */
export async function benchUpload(rel: Release, runs: number, cleanup: Cleanup, log: (s: string) => void): Promise<UploadFigures> {
  const agentMs: number[] = [];
  const baselineMs: number[] = [];
  const mtlsMs: number[] = [];
  const grpcMs: number[] = [];
  const mibs = (ms: number) => rel.size / MiB / (ms / 1000);
  const pkiDir = cleanup.dir(mkdtempSync(join(tmpdir(), 'slipway-bench-pki-')));
  const pki = await makePki(pkiDir);
  const agentCert = await pki.agentCert('bench-agent');
  const sig = signRelease(readPrivateKey(pki.signing.private), { app: 'bench', version: '1.0.0', sha256: rel.sha256, manifest_sha256: sha256Hex('bench') });
  /** One timed upload to a fresh agent; returns ms. */
  const timed = async (what: string, secure: boolean, channel: 'auto' | 'grpc'): Promise<number> => {
    const dir = cleanup.dir(mkdtempSync(join(tmpdir(), 'slipway-bench-agent-')));
    const agent = cleanup.agent(new LocalAgent(secure
      ? { dir, name: `bench-${what}`, tls: { ca: pki.ca, cert: agentCert.cert, key: agentCert.key }, trustedKeys: [pki.signing.public] }
      : { dir, name: `bench-${what}` }));
    await agent.start();
    await settle();
    const conn = new AgentConnection(agent.address, secure ? { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key } : { insecure: true }, 30_000);
    try {
      await conn.status();
      const t = performance.now();
      const res = await conn.upload(rel.file, { app: 'bench', version: '1.0.0', sha256: rel.sha256, size: rel.size, ...(secure ? { signature: sig } : {}) }, undefined, { channel });
      const ms = performance.now() - t;
      if (res.already_stored || Number(res.bytes_received) !== rel.size) {
        throw new Error(`${what} upload: agent received ${res.bytes_received} of ${rel.size} bytes (already_stored ${res.already_stored})`);
      }
      const want = channel === 'grpc' ? 'grpc' : 'data-port';
      if (res.channel !== want) throw new Error(`${what} upload went over ${res.channel} (${res.fallback ?? ''}), not ${want}`);
      return ms;
    } finally {
      conn.close();
      await cleanup.stopAgent(agent);
      await cleanup.removeDir(dir);
    }
  };
  for (let i = 0; i < runs; i++) {
    mtlsMs.push(await timed(`upload-mtls-${i}`, true, 'auto'));
    agentMs.push(await timed(`upload-${i}`, false, 'auto'));
    grpcMs.push(await timed(`upload-grpc-${i}`, false, 'grpc'));

    const rdir = cleanup.dir(mkdtempSync(join(tmpdir(), 'slipway-bench-tcp-')));
    const receiver = await startReceiver(join(rdir, 'received.tar.gz'));
    const stop = cleanup.stopper(receiver.stop);
    try {
      const r = await sendFile(receiver, rel.file, rel.size);
      if (r.sha256 !== rel.sha256) throw new Error(`baseline run ${i + 1}: receiver hashed ${r.sha256}, not ${rel.sha256}`);
      baselineMs.push(r.ms);
    } finally {
      await stop();
      await cleanup.removeDir(rdir);
    }
    const fig = (ms: number) => `${mibs(ms).toFixed(0)} MiB/s (${(ms / 1000).toFixed(2)} s)`;
    log(`upload run ${i + 1}/${runs}: data port ${fig(agentMs[i]!)}, data port over mTLS ${fig(mtlsMs[i]!)}, ` +
      `gRPC Upload ${fig(grpcMs[i]!)}, plain TCP ${fig(baselineMs[i]!)}`);
  }
  const agentMiBs = mibs(median(agentMs));
  const baselineMiBs = mibs(median(baselineMs));
  const mtlsMiBs = mibs(median(mtlsMs));
  const grpcMiBs = mibs(median(grpcMs));
  await cleanup.removeDir(pkiDir);
  return {
    agentMs, baselineMs, agentMiBs, baselineMiBs, ratio: agentMiBs / baselineMiBs,
    mtlsMs, mtlsMiBs, mtlsRatio: mtlsMiBs / baselineMiBs, grpcMs, grpcMiBs, grpcRatio: grpcMiBs / baselineMiBs,
  };
}

/**
 * (b) bench/unpack.ts's pairs (at least MIN_UNPACK_RUNS of them: the disk
 * swings too much for fewer), on the cached tarball, under bench/.work/.
 */
export async function benchUnpackCached(rel: Release, runs: number, cleanup: Cleanup, log: (s: string) => void): Promise<UnpackFigures> {
  const work = cleanup.dir(join(WORK_DIR, `pipeline-run-${process.pid}`));
  rmSync(work, { recursive: true, force: true });
  try {
    return await benchUnpackPairs(rel.file, { runs: Math.max(runs, MIN_UNPACK_RUNS), work, signal: cleanup.controller.signal, log });
  } finally {
    await cleanup.removeDir(work);
  }
}

export interface RedeployFigures {
  /** ListReleases + decision on a new connection each run, as `slipway deploy` does. */
  decisionColdMs: number[]; medianDecisionColdMs: number;
  /** The same on an open connection. */
  decisionWarmMs: number[]; medianDecisionWarmMs: number;
  skipped: boolean;
  /** Upload of the stored sha256, forced (not skipped). */
  dedupUploadMs: number[]; medianDedupUploadMs: number;
  bytesReceived: number[]; uploadBytesTotalDelta: number[];
  /** How much of the file the client had read and handed to gRPC when the result came. */
  clientBytesRead: number[];
}

/**
 * (c) One agent with the release stored (uploaded once, untimed). Then, each
 * run: the deploy's pre-activation step (ListReleases, is this sha256 there
 * stored or unpacked, so skip the upload), and a real Upload of the same
 * sha256 with Status().agent.upload_bytes_total read before and after.
 */
export async function benchRedeploy(rel: Release, runs: number, cleanup: Cleanup, log: (s: string) => void): Promise<RedeployFigures> {
  const dir = cleanup.dir(mkdtempSync(join(tmpdir(), 'slipway-bench-agent-')));
  const agent = cleanup.agent(new LocalAgent({ dir, name: 'bench-redeploy' }));
  await agent.start();
  await settle();
  const meta = { app: 'bench', version: '1.0.0', sha256: rel.sha256, size: rel.size };
  const decide = async (c: AgentConnection) => {
    const present = await c.listReleases(meta.app);
    return present.some((x) => x.sha256 === meta.sha256 && (x.stored || x.unpacked));
  };
  const warm = new AgentConnection(agent.address, { insecure: true }, 30_000);
  const f: RedeployFigures = {
    decisionColdMs: [], medianDecisionColdMs: 0, decisionWarmMs: [], medianDecisionWarmMs: 0, skipped: true,
    dedupUploadMs: [], medianDedupUploadMs: 0, bytesReceived: [], uploadBytesTotalDelta: [], clientBytesRead: [],
  };
  try {
    const first = await warm.upload(rel.file, meta);
    if (first.already_stored) throw new Error('the fresh agent already had the release');
    for (let i = 0; i < runs; i++) {
      const cold = new AgentConnection(agent.address, { insecure: true }, 30_000);
      try {
        const t = performance.now();
        const skip = await decide(cold);
        f.decisionColdMs.push(performance.now() - t);
        f.skipped &&= skip;
      } finally {
        cold.close();
      }
      let t = performance.now();
      f.skipped &&= await decide(warm);
      f.decisionWarmMs.push(performance.now() - t);

      const before = Number((await warm.status()).agent?.upload_bytes_total);
      let read = 0;
      t = performance.now();
      const res = await warm.upload(rel.file, meta, (sent) => { read = sent; });
      f.dedupUploadMs.push(performance.now() - t);
      f.clientBytesRead.push(read);
      const after = Number((await warm.status()).agent?.upload_bytes_total);
      f.bytesReceived.push(Number(res.bytes_received));
      f.uploadBytesTotalDelta.push(after - before);
      if (!res.already_stored) throw new Error(`re-upload run ${i + 1}: the agent did not recognise the stored sha256`);
      log(`re-deploy run ${i + 1}/${runs}: ListReleases+decision ${f.decisionColdMs[i]!.toFixed(1)} ms (new connection), ` +
        `${f.decisionWarmMs[i]!.toFixed(1)} ms (open); Upload of the same sha256 ${f.dedupUploadMs[i]!.toFixed(1)} ms, ` +
        `bytes_received ${f.bytesReceived[i]}, upload_bytes_total +${f.uploadBytesTotalDelta[i]}`);
    }
  } finally {
    warm.close();
    await cleanup.stopAgent(agent);
    await cleanup.removeDir(dir);
  }
  f.medianDecisionColdMs = median(f.decisionColdMs);
  f.medianDecisionWarmMs = median(f.decisionWarmMs);
  f.medianDedupUploadMs = median(f.dedupUploadMs);
  return f;
}

export interface PipelineResult {
  schema: 1;
  bench: 'pipeline';
  date: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; node: string; platform: string };
  /** 1-minute load average before and after: other work on the machine skews every figure. */
  load: { start: number; end: number };
  runs: number;
  quick: boolean;
  release: { file: string; sha256: string; bytes: number; files: number; unpacked_bytes: number; cached: boolean; prepare_ms: number };
  upload: UploadFigures;
  unpack: UnpackFigures;
  redeploy: RedeployFigures;
  table: { figure: string; value: string; target: string; result: 'PASS' | 'MISS' | '—' }[];
}

export async function benchPipeline(opts: { runs: number; quick: boolean; cleanup: Cleanup; log: (s: string) => void }): Promise<PipelineResult> {
  const { runs, cleanup, log } = opts;
  const loadStart = loadavg()[0]!;
  const rel = await prepareRelease(opts.quick ? 'quick' : 'full', log);
  log(`release: ${(rel.size / 1e6).toFixed(1)} MB .tar.gz (${(rel.size / MiB).toFixed(1)} MiB), ${rel.tree.files} files, ` +
    `${(rel.tree.bytes / 1e6).toFixed(0)} MB unpacked, sha256 ${rel.sha256.slice(0, 12)}`);
  const upload = await benchUpload(rel, runs, cleanup, log);
  const unpack = await benchUnpackCached(rel, runs, cleanup, log);
  const redeploy = await benchRedeploy(rel, runs, cleanup, log);
  const pf = (ok: boolean) => (ok ? 'PASS' : 'MISS') as 'PASS' | 'MISS';
  const zeroBytes = redeploy.bytesReceived.every((b) => b === 0);
  const zeroDelta = redeploy.uploadBytesTotalDelta.every((b) => b === 0);
  const c = cpus();
  return {
    schema: 1, bench: 'pipeline', date: new Date().toISOString(),
    machine: { cpus: c.length, cpu_model: c[0]?.model ?? '', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
    load: { start: loadStart, end: loadavg()[0]! },
    runs, quick: opts.quick,
    release: { file: rel.file, sha256: rel.sha256, bytes: rel.size, files: rel.tree.files, unpacked_bytes: rel.tree.bytes, cached: rel.cached, prepare_ms: rel.prepareMs },
    upload, unpack, redeploy,
    table: [
      { figure: 'upload, agent (data port, no TLS)', value: `${upload.agentMiBs.toFixed(0)} MiB/s`, target: '', result: '—' },
      { figure: 'upload, agent (data port, mTLS, signed release)', value: `${upload.mtlsMiBs.toFixed(0)} MiB/s`, target: '', result: '—' },
      { figure: 'upload, agent (gRPC Upload fallback, no TLS)', value: `${upload.grpcMiBs.toFixed(0)} MiB/s`, target: '', result: '—' },
      { figure: 'upload, plain TCP baseline', value: `${upload.baselineMiBs.toFixed(0)} MiB/s`, target: '', result: '—' },
      { figure: 'upload ratio agent/baseline', value: `${upload.ratio.toFixed(2)}×`, target: `≥ ${TARGETS.uploadRatio}×`, result: pf(upload.ratio >= TARGETS.uploadRatio) },
      { figure: 'upload ratio, mTLS/baseline', value: `${upload.mtlsRatio.toFixed(2)}×`, target: '', result: '—' },
      { figure: 'upload ratio, gRPC Upload/baseline', value: `${upload.grpcRatio.toFixed(2)}×`, target: '', result: '—' },
      { figure: `unpack, ours (durable, flush: ${unpack.flush})`, value: `${(unpack.medianOursMs / 1000).toFixed(2)} s`, target: '', result: '—' },
      { figure: 'unpack, GNU tar -xzf + sync -f', value: `${(unpack.medianGnuSyncMs / 1000).toFixed(2)} s`, target: '', result: '—' },
      { figure: `unpack, median per-run ratio ours/(GNU + sync) on ${unpack.fsType}`, value: `${unpack.medianRatio.toFixed(2)}×`, target: `≤ ${unpack.target}×`, result: pf(unpack.medianRatio <= unpack.target) },
      { figure: 'unpack, median per-run ratio without flush/sync', value: `${unpack.medianRatioNoFlush.toFixed(2)}×`, target: '', result: '—' },
      { figure: 'unpack, event loop delay p99 (max) during ours', value: `${unpack.lagP99Ms.toFixed(1)} ms (${unpack.lagMaxMs.toFixed(1)} ms)`, target: '', result: '—' },
      { figure: 're-deploy: ListReleases+decision (new conn)', value: `${redeploy.medianDecisionColdMs.toFixed(1)} ms`, target: 'skips upload', result: pf(redeploy.skipped) },
      { figure: 're-deploy: ListReleases+decision (open conn)', value: `${redeploy.medianDecisionWarmMs.toFixed(1)} ms`, target: '', result: '—' },
      { figure: 're-deploy: upload of same sha256 (BeginUpload)', value: `${redeploy.medianDedupUploadMs.toFixed(1)} ms`, target: '', result: '—' },
      { figure: 're-deploy: bytes_received', value: redeploy.bytesReceived.join(', '), target: '0', result: pf(zeroBytes) },
      { figure: 're-deploy: upload_bytes_total delta', value: redeploy.uploadBytesTotalDelta.join(', '), target: '0', result: pf(zeroDelta) },
    ],
  };
}
