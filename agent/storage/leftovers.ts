// Temp files of atomic writes (common/atomic.ts: .tmp-<name>-<pid>-<rand>)
// that a killed agent left in the state dir's root (locks.json, agent.json)
// and in each app's shared/ (env). Releases.removeTempLeftovers covers an
// app's store, releases and root (state.json, current); this covers the rest,
// once at agent start. Only other processes' temp files are taken (the pid in
// the name), never one this agent is still writing.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppPaths, appsDir, isLeftover } from '../paths.js';
import type { Logger } from '../logger.js';

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** The leftovers in the state dir's root and the apps' shared/ dirs. */
export async function hostLeftovers(stateDir: string): Promise<string[]> {
  const dirs = [stateDir];
  for (const app of await names(appsDir(stateDir))) dirs.push(new AppPaths(stateDir, app).shared);
  const out: string[] = [];
  for (const dir of dirs) for (const name of await names(dir)) if (isLeftover(name)) out.push(join(dir, name));
  return out;
}

export async function removeHostLeftovers(stateDir: string, log: Logger): Promise<number> {
  const found = await hostLeftovers(stateDir);
  for (const path of found) {
    await rm(path, { recursive: true, force: true });
    log.info({ path }, 'removed a leftover of interrupted work');
  }
  return found.length;
}
