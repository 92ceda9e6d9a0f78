// The agent's own installation, as the launcher (systemd/agent-launcher.sh)
// sees it: <home>/builds/<version>-<sha12>/, the `current` and `previous`
// links, the `upgrade` marker (an unconfirmed switch) and the `rolled-back`
// record (the launcher switched back). The files are the launcher's format
// (key=value lines, links naming "builds/NAME" or "installed"), read and
// written here with the same crash-safe steps: a kill at any point leaves the
// old link or the new, and a marker or none.
import { cp, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, readlinkOrUndefined, swapSymlink, tempName, writeFileAtomic } from '../../common/atomic.js';
import { testPause } from './test-pause.js';

/** What `current`/`previous` name: "builds/NAME", or "installed" (the binary the unit names). */
export type BuildRef = string;
export const INSTALLED: BuildRef = 'installed';

export interface UpgradeMarker {
  to: BuildRef;
  from: BuildRef;
  /** What `previous` named before the switch (put back by a switch back); '' when nothing. */
  previous: string;
  /** Seconds since the epoch. */
  switched_at: number;
  attempts: number;
  to_version: string;
  from_version: string;
  who: string;
}

export interface RolledBack {
  from: BuildRef;
  to: BuildRef;
  at: number;
  attempts: number;
  reason: string;
}

/** "builds/1.4.2-0123456789ab" → "1.4.2"; "installed" → "". */
export function versionOfRef(ref: BuildRef): string {
  const m = /^builds\/(.+)-[0-9a-f]{12}$/.exec(ref);
  return m ? m[1] : '';
}

export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && !out.has(line.slice(0, i))) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

function formatKeyValues(rec: object): string {
  return Object.entries(rec).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}\n`).join('');
}

export class AgentHome {
  constructor(readonly dir: string) {}

  /** The home the launcher gave this agent (SLIPWAY_AGENT_HOME), and the build it runs; undefined when not started through it. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): { home: AgentHome; running: BuildRef } | undefined {
    const dir = env.SLIPWAY_AGENT_HOME;
    if (!dir) return undefined;
    return { home: new AgentHome(dir), running: env.SLIPWAY_AGENT_BUILD || INSTALLED };
  }

  get builds(): string { return join(this.dir, 'builds'); }
  get markerFile(): string { return join(this.dir, 'upgrade'); }
  get rolledBackFile(): string { return join(this.dir, 'rolled-back'); }
  buildDir(name: string): string { return join(this.builds, name); }

  async link(name: 'current' | 'previous'): Promise<BuildRef> {
    return (await readlinkOrUndefined(join(this.dir, name))) ?? INSTALLED;
  }

  /** Whether `previous` exists at all (a first upgrade has one: the installed binary). */
  async hasPrevious(): Promise<boolean> {
    return (await readlinkOrUndefined(join(this.dir, 'previous'))) !== undefined;
  }

  async marker(): Promise<UpgradeMarker | undefined> {
    const kv = await readKeyValues(this.markerFile);
    if (!kv) return undefined;
    return {
      to: kv.get('to') ?? '', from: kv.get('from') ?? INSTALLED, previous: kv.get('previous') ?? '',
      switched_at: Number(kv.get('switched_at') ?? 0), attempts: Number(kv.get('attempts') ?? 0),
      to_version: kv.get('to_version') ?? '', from_version: kv.get('from_version') ?? '', who: kv.get('who') ?? '',
    };
  }

  async rolledBack(): Promise<RolledBack | undefined> {
    const kv = await readKeyValues(this.rolledBackFile);
    if (!kv) return undefined;
    return { from: kv.get('from') ?? '', to: kv.get('to') ?? '', at: Number(kv.get('at') ?? 0), attempts: Number(kv.get('attempts') ?? 0), reason: kv.get('reason') ?? '' };
  }

  async dropRolledBack(): Promise<void> {
    await rm(this.rolledBackFile, { force: true });
  }

  /** The confirmation: the marker goes (the launcher then counts no more attempts). */
  async confirm(): Promise<void> {
    await rm(this.markerFile, { force: true });
    await fsyncDir(this.dir);
  }

  /** Whether builds/NAME is complete (its program is there). */
  async hasBuild(name: string): Promise<boolean> {
    return (await programOf(this.buildDir(name))) !== undefined;
  }

  /**
   * Copies an unpacked release into builds/NAME (a temp copy renamed into
   * place), without `drop` (the program this host does not run, from a build
   * with both); nothing when it is there already.
   */
  async install(name: string, from: string, drop?: string): Promise<void> {
    if (await this.hasBuild(name)) return;
    await mkdir(this.builds, { recursive: true, mode: 0o750 });
    // An install that was ended half-way left its temp copy (one upgrade runs at a time: none is in progress).
    for (const n of (await readdir(this.builds)).filter((x) => x.startsWith('.tmp-'))) await rm(join(this.builds, n), { recursive: true, force: true });
    const dest = this.buildDir(name);
    await rm(dest, { recursive: true, force: true });
    const tmp = tempName(dest);
    try {
      await cp(from, tmp, { recursive: true, verbatimSymlinks: true });
      if (drop) await rm(join(tmp, drop), { force: true });
      await testPause('install');
      await rename(tmp, dest);
      await fsyncDir(this.builds);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * The switch: the marker first (the launcher drops a marker whose `to` is
   * not what `current` names: a kill between the two switches nothing), then
   * `previous`, then `current`.
   */
  async switchTo(to: BuildRef, m: Omit<UpgradeMarker, 'to' | 'from' | 'previous' | 'attempts'>): Promise<UpgradeMarker> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    const from = await this.link('current');
    const previous = (await readlinkOrUndefined(join(this.dir, 'previous'))) ?? '';
    const marker: UpgradeMarker = { to, from, previous, attempts: 0, ...m };
    await writeFileAtomic(this.markerFile, formatKeyValues(marker), 0o640);
    await swapSymlink(join(this.dir, 'previous'), from);
    await testPause('switch');
    await swapSymlink(join(this.dir, 'current'), to);
    return marker;
  }

  /**
   * Builds not named by `current` or `previous` and that no process runs
   * from (the supervising process and its holder keep running the build that
   * started them, and a successor is started from the same files), oldest
   * first (by their directory's time).
   */
  async unusedBuilds(): Promise<string[]> {
    const keep = new Set([await this.link('current'), await this.link('previous'), ...(await this.buildsInUse())]);
    let names: string[];
    try {
      names = (await readdir(this.builds)).filter((n) => !n.startsWith('.') && !keep.has(`builds/${n}`));
    } catch {
      return [];
    }
    const withTime = await Promise.all(names.map(async (n) => ({ n, t: (await stat(this.buildDir(n))).mtimeMs })));
    return withTime.sort((a, b) => a.t - b.t).map((x) => x.n);
  }

  /** "builds/NAME" of every build a process's command line or executable is under (/proc). */
  async buildsInUse(): Promise<string[]> {
    const prefix = `${this.builds}/`;
    const out = new Set<string>();
    let pids: string[];
    try {
      pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
    } catch {
      return [];
    }
    for (const pid of pids) {
      const seen: string[] = [];
      try { seen.push(...(await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')); } catch { /* gone, or not ours */ }
      seen.push((await readlinkOrUndefined(`/proc/${pid}/exe`)) ?? '');
      for (const s of seen) {
        if (!s.startsWith(prefix)) continue;
        const name = s.slice(prefix.length).split('/')[0];
        if (name) out.add(`builds/${name}`);
      }
    }
    return [...out];
  }

  async removeBuild(name: string): Promise<void> {
    await rm(this.buildDir(name), { recursive: true, force: true });
  }
}

/** The program of an unpacked agent build: bin/slipway-agent (the single executable) or bin/slipway-agent.mjs (the bundle). */
export async function programOf(dir: string): Promise<string | undefined> {
  for (const p of ['bin/slipway-agent', 'bin/slipway-agent.mjs']) {
    try {
      if ((await stat(join(dir, p))).isFile()) return join(dir, p);
    } catch { /* next */ }
  }
  return undefined;
}

/** A launcher file's key=value lines, or undefined when it is not there. */
async function readKeyValues(file: string): Promise<Map<string, string> | undefined> {
  try {
    return parseKeyValues(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}
