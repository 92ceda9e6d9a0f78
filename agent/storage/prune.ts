// Cleanup: releases beyond keep_releases (their directories and tarballs),
// temp leftovers of interrupted uploads and unpacks, and rotated app logs
// past limits.log_files. `planPrune` decides which releases go and is pure;
// `Pruner` lists what is on disk, asks the plan, removes, logs and reports
// each removal. It runs on prune_schedule (node-cron, hourly by default) and
// on `slipway prune ENV` (the Prune RPC).
//
// Never removed: the current release (state.desired), the rollback target,
// the newest `keep` releases, a release an activation in progress switches
// to, and a release a live process of the app runs from (a version still
// draining after a swap). The check is repeated right before each removal,
// and from then an unpack of that release waits until it is gone.
import { rm, lstat } from 'node:fs/promises';
import { readdirOrEmpty } from '../../common/fs-soft.js';
import { join, relative } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import { AppPaths } from '../paths.js';
import { rollbackTarget, type AppState, type ReleaseId } from '../runtime/state.js';
import type { Releases, ReleaseListing } from './releases.js';
import type { Logger } from '../logger.js';

export type KeepReason = 'current' | 'rollback_target' | 'activating' | 'running' | 'newest';

export interface PruneInput {
  /** The app's releases on this host (stored tarballs and unpacked directories, one entry per sha256). */
  releases: readonly ReleaseListing[];
  /** state.json of the app: desired (current), the stack (rollback target) and the history (last use). */
  state: Pick<AppState, 'desired' | 'stack' | 'history'>;
  /** Releases in use right now: an activation in progress, live processes. */
  activating?: ReleaseId;
  running: readonly ReleaseId[];
  /** How many of the newest releases to keep (at least 1). */
  keep: number;
}

export interface PrunePlan {
  keep: { release: ReleaseListing; why: KeepReason[] }[];
  remove: ReleaseListing[];
}

/**
 * Pure: which releases go. "Newest" is by last use: the later of when the
 * release arrived on the host and when it was last activated, so a release
 * rolled back to counts as recent. Kept releases come first in the answer,
 * newest first; removed ones likewise.
 */
export function planPrune(input: PruneInput): PrunePlan {
  const lastUsed = new Map<string, number>();
  for (const r of input.releases) lastUsed.set(r.sha256, Date.parse(r.stored_at) || 0);
  for (const rec of [...input.state.history, ...input.state.stack]) {
    const t = Date.parse(rec.at) || 0;
    if (lastUsed.has(rec.sha256) && t > (lastUsed.get(rec.sha256) ?? 0)) lastUsed.set(rec.sha256, t);
  }
  const sorted = [...input.releases].sort((a, b) => (lastUsed.get(b.sha256) ?? 0) - (lastUsed.get(a.sha256) ?? 0)
    || b.version.localeCompare(a.version) || a.sha256.localeCompare(b.sha256));
  const newest = new Set(sorted.slice(0, Math.max(1, input.keep)).map((r) => r.sha256));
  const target = rollbackTarget({ stack: input.state.stack } as AppState);
  const running = new Set(input.running.map((r) => r.sha256));
  const plan: PrunePlan = { keep: [], remove: [] };
  for (const r of sorted) {
    const why: KeepReason[] = [];
    if (input.state.desired?.sha256 === r.sha256) why.push('current');
    if (target?.sha256 === r.sha256) why.push('rollback_target');
    if (input.activating?.sha256 === r.sha256) why.push('activating');
    if (running.has(r.sha256)) why.push('running');
    if (newest.has(r.sha256)) why.push('newest');
    if (why.length > 0) plan.keep.push({ release: r, why });
    else plan.remove.push(r);
  }
  return plan;
}

/** Pure: rotated logs past the limit (app.log.N with N > files); app.log itself and app.log.1…N stay. */
export function excessLogs(names: readonly string[], files: number): string[] {
  return names.filter((n) => {
    const m = /^app\.log\.(\d+)$/.exec(n);
    return m !== null && Number(m[1]) > files;
  }).sort();
}

export type PrunedKind = 'release' | 'tarball' | 'temp' | 'log';

export interface PrunedItem {
  app: string;
  kind: PrunedKind;
  version: string;
  sha256: string;
  /** Relative to the state dir. */
  path: string;
  bytes: number;
}

export interface AppPruneResult {
  app: string;
  removed: PrunedItem[];
  kept: { release: ReleaseListing; why: KeepReason[] }[];
}

/** What the pruner needs of an app's runtime (AppRuntime has all of it). */
export interface RuntimeView {
  readonly persistedState: AppState;
  readonly activating: ReleaseId | undefined;
}

export interface PrunerDeps {
  stateDir: string;
  releases: Releases;
  runtime(app: string): Promise<RuntimeView>;
  apps(): Promise<string[]>;
  keep: number;
  logFiles: number;
  log: Logger;
  /** Called once per removal (metrics). */
  removed?: (item: PrunedItem) => void;
}

export class Pruner {
  constructor(private readonly d: PrunerDeps) {}

  /** Prunes every app (or one); with dryRun, answers what would go and removes nothing. */
  async run(opts: { app?: string; keep?: number; dryRun?: boolean; why?: string } = {}): Promise<AppPruneResult[]> {
    const apps = opts.app ? [opts.app] : await this.d.apps();
    const out: AppPruneResult[] = [];
    for (const app of apps) out.push(await this.pruneApp(app, opts.keep || this.d.keep, opts.dryRun === true, opts.why ?? 'prune'));
    return out;
  }

  private async pruneApp(app: string, keep: number, dryRun: boolean, why: string): Promise<AppPruneResult> {
    const p = new AppPaths(this.d.stateDir, app);
    const rt = await this.d.runtime(app);
    const listing = await this.d.releases.list(app);
    const plan = () => planPrune({
      releases: listing, state: rt.persistedState, activating: rt.activating, running: rt.persistedState.processes, keep,
    });
    const first = plan();
    const removed: PrunedItem[] = [];
    const rel = (path: string) => relative(this.d.stateDir, path);
    for (const r of first.remove) {
      const items: PrunedItem[] = [];
      if (r.unpacked) items.push({ app, kind: 'release', version: r.version, sha256: r.sha256, path: rel(p.release(r.version, r.sha256)), bytes: await treeBytes(p.release(r.version, r.sha256)) });
      if (r.stored) items.push({ app, kind: 'tarball', version: r.version, sha256: r.sha256, path: rel(p.tarball(r.sha256)), bytes: r.size });
      if (dryRun) {
        removed.push(...items);
        continue;
      }
      // Asked again at the last moment: an activation may have begun since the listing.
      const gone = await this.d.releases.remove(app, r.version, r.sha256, () => plan().remove.some((x) => x.sha256 === r.sha256));
      if (!gone) continue;
      for (const item of items) this.report(item, why);
      removed.push(...items);
    }
    for (const path of await this.d.releases.tempLeftovers(app)) {
      const item: PrunedItem = { app, kind: 'temp', version: '', sha256: '', path: rel(path), bytes: await treeBytes(path) };
      if (!dryRun) {
        await rm(path, { recursive: true, force: true });
        this.report(item, why);
      }
      removed.push(item);
    }
    for (const name of excessLogs(await readdirOrEmpty(p.logs), this.d.logFiles)) {
      const path = join(p.logs, name);
      const item: PrunedItem = { app, kind: 'log', version: '', sha256: '', path: rel(path), bytes: await treeBytes(path) };
      if (!dryRun) {
        await rm(path, { force: true });
        this.report(item, why);
      }
      removed.push(item);
    }
    const removedShas = new Set(removed.map((i) => i.sha256));
    return { app, removed, kept: plan().keep.filter((k) => !removedShas.has(k.release.sha256)) };
  }

  private report(item: PrunedItem, why: string): void {
    this.d.log.info({ app: item.app, kind: item.kind, version: item.version || undefined, path: item.path, bytes: item.bytes, by: why }, `pruned ${item.kind} ${item.path}`);
    this.d.removed?.(item);
  }
}

/** Schedules the prune job (node-cron, UTC; a run still busy skips the next tick). */
export function schedulePrune(expression: string, job: () => Promise<unknown>, log: Logger): ScheduledTask {
  return cron.schedule(expression, async () => {
    try {
      await job();
    } catch (err) {
      log.error({ err }, 'scheduled prune failed');
    }
  }, { name: 'prune', timezone: 'UTC', noOverlap: true });
}

/** Bytes of the regular files under a path (the path itself if it is a file). */
async function treeBytes(path: string): Promise<number> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  for (const name of await readdirOrEmpty(path)) n += await treeBytes(join(path, name));
  return n;
}

