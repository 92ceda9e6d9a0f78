// What is on the host, read from the outside: the app's processes and the
// supervising processes (from /proc), the state files (do they parse, what
// do they say), where `current` points, and temp files left anywhere under
// the state dir. Read-only; synchronous, so that a snapshot taken right after
// a kill sees the moment of the kill.
import { readFileSync, readdirSync, readlinkSync, existsSync, realpathSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { socketPathFor } from '../../../agent/runtime/supervisor/protocol.js';

export interface AppProc {
  pid: number;
  ppid: number;
  /** The release dir it runs in (its cwd), e.g. "1.1.0-0d81f3aa4c0e". */
  release: string;
}

/** State, parent and start time (clock ticks since boot) of a process, from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; ppid: number; start: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]), start: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a live app process is in the care of the live supervising process
 * `sup`: its child, or one it adopted from a predecessor (then it started
 * before `sup` did, and its parent is init or a subreaper).
 */
export function supervisedBy(pid: number, sup: number): boolean {
  const app = procStat(pid);
  const s = procStat(sup);
  if (!app || !s || app.state === 'Z' || s.state === 'Z') return false;
  return app.ppid === sup || app.start < s.start;
}

function pids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Live processes whose working directory is one of the app's release dirs (the app's versions). */
export function appProcesses(stateDir: string, app: string): AppProc[] {
  const releases = `${join(realpathSync(stateDir), 'apps', app, 'releases')}/`;
  const out: AppProc[] = [];
  for (const pid of pids()) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (!cwd.startsWith(releases)) continue;
    const st = procStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    out.push({ pid, ppid: st.ppid, release: cwd.slice(releases.length).split('/')[0] ?? '' });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/**
 * Live supervising processes of this state dir, found by their --socket
 * argument; with `holders`, its holders instead (the same program with --hold).
 */
export function supervisorProcesses(stateDir: string, holders = false): number[] {
  const socket = socketPathFor(stateDir);
  const out: number[] = [];
  for (const pid of pids()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('--socket');
      const st = procStat(pid);
      if (i > 0 && argv[i + 1] === socket && argv.includes('--hold') === holders && st && st.state !== 'Z') out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

/** Every name starting ".tmp-" under the state dir (relative paths), at any depth. */
export function tempFiles(stateDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(stateDir, rel));
    } catch {
      return;
    }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (n.startsWith('.tmp-')) out.push(r);
      try {
        if (lstatSync(join(stateDir, r)).isDirectory()) walk(r);
      } catch { /* gone meanwhile */ }
    }
  };
  walk('');
  return out.sort();
}

export interface ActivationRecord { version: string; sha256: string; at: string; reason: string; result: string; message: string }
export interface AppStateFile {
  desired: { version: string; sha256: string } | null;
  stopped: boolean;
  stack: ActivationRecord[];
  history: ActivationRecord[];
  processes: { pid: number; version: string }[];
}
export interface HistoryLine { at: string; app: string; action: string; from_version: string; to_version: string; result: string; message: string }

export interface StateFiles {
  /** What did not parse, or is missing though it must be there: one line each. */
  problems: string[];
  state?: AppStateFile;
  history: HistoryLine[];
}

function parseJson<T>(file: string, problems: string[], required: boolean): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (required || (err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${file}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    problems.push(`${file} does not parse (${(err as Error).message}): ${JSON.stringify(text.slice(0, 120))}`);
    return undefined;
  }
}

/** state.json, locks.json, agent.json and every line of history.jsonl: parsed, or why not. */
export function readStateFiles(stateDir: string, app: string): StateFiles {
  const problems: string[] = [];
  const state = parseJson<AppStateFile>(join(stateDir, 'apps', app, 'state.json'), problems, true);
  parseJson(join(stateDir, 'locks.json'), problems, false);
  parseJson(join(stateDir, 'agent.json'), problems, true);
  const history: HistoryLine[] = [];
  const file = join(stateDir, 'history.jsonl');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch { /* none yet */ }
  for (const [i, line] of text.split('\n').entries()) {
    if (!line) continue;
    try {
      history.push(JSON.parse(line) as HistoryLine);
    } catch {
      problems.push(`${file} line ${i + 1} does not parse: ${JSON.stringify(line.slice(0, 120))}`);
    }
  }
  return { problems, state, history: history.filter((h) => h.app === app) };
}

/** Where `current` points (a release dir name), and what is wrong with it: missing, outside releases/, incomplete. */
export function currentRelease(stateDir: string, app: string): { release?: string; problem?: string } {
  const link = join(stateDir, 'apps', app, 'current');
  let target: string;
  try {
    target = readlinkSync(link);
  } catch (err) {
    return { problem: `current: ${(err as Error).message}` };
  }
  const m = /^releases\/([^/]+)$/.exec(target);
  if (!m) return { problem: `current points at ${target}, not at a dir in releases/` };
  const release = m[1]!;
  if (!existsSync(join(stateDir, 'apps', app, 'releases', release, '.slipway-release.json'))) {
    return { release, problem: `current points at releases/${release}, which has no completion marker (.slipway-release.json)` };
  }
  return { release };
}

/** The release dirs present (complete or not). */
export function releaseDirs(stateDir: string, app: string): string[] {
  try {
    return readdirSync(join(stateDir, 'apps', app, 'releases')).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** The version of a release dir name ("1.1.0-0d81f3aa4c0e" → "1.1.0"). */
export function versionOf(releaseDir: string): string {
  return releaseDir.replace(/-[0-9a-f]{12}$/, '');
}

/** shared/env's text, or '' when there is none. */
export function sharedEnv(stateDir: string, app: string): string {
  try {
    return readFileSync(join(stateDir, 'apps', app, 'shared', 'env'), 'utf8');
  } catch {
    return '';
  }
}

/** What the host looked like at the moment of a kill (taken synchronously right after it). */
export interface Landing {
  current?: string;
  desired?: string;
  temps: string[];
  appPids: number[];
}

export function snapshot(stateDir: string, app: string): Landing {
  let desired: string | undefined;
  try {
    desired = (JSON.parse(readFileSync(join(stateDir, 'apps', app, 'state.json'), 'utf8')) as AppStateFile).desired?.version;
  } catch { /* torn or missing: the invariants say so later */ }
  return { current: currentRelease(stateDir, app).release, desired, temps: tempFiles(stateDir), appPids: appProcesses(stateDir, app).map((p) => p.pid) };
}
