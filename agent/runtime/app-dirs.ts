// The app's own writable places, apps/<app>/data and apps/<app>/tmp
// (SLIPWAY_DATA_DIR, SLIPWAY_TMP_DIR): made on first use, 0700, owned by the
// user the app runs as (app-users.ts), so that no other app's user reads
// them; their owner and mode are mended at every use.
//
// When the app's user changed (app_user → app_users: per_app, or another
// name in the map), the dirs are handed over with what they hold, as
// systemd does for a DynamicUser's StateDirectory: GNU chown -R, which never
// follows a symlink (-P, and fts opens each directory with O_NOFOLLOW), and
// only for entries the old owner owns (--from): a process of the old user
// that swaps a directory for a symlink meanwhile can make the new user own
// nothing but files the old user already owned. Nothing of root's (or of
// anyone else) changes hands.
import { spawn } from 'node:child_process';
import { chmod, lchown, lstat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import type { AppDirs, AppUser } from './app-env.js';

/** A dir that changed hands: who owned it before. */
export interface HandedOver { dir: string; fromUid: number }

/**
 * Makes the app's data and tmp dirs (0700, owned by the app's user when it
 * runs as one) and mends their owner and mode; hands over what they hold
 * when they belonged to another uid. Resolves with the dirs handed over.
 */
export async function ensureAppDirs(dirs: AppDirs, user?: Pick<AppUser, 'uid' | 'gid'>): Promise<HandedOver[]> {
  const handed: HandedOver[] = [];
  for (const d of [dirs.data, dirs.tmp]) {
    const made = await makeDir(d);
    const st = await lstat(d);
    if (!st.isDirectory()) {
      throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `${d} is not a directory (a symlink or a file is in its place): move it away; the agent makes the app's own directory there`);
    }
    if (user && made) {
      await lchown(d, user.uid, user.gid);
    } else if (user && st.uid !== user.uid) {
      await chownTree(d, st.uid, user);
      handed.push({ dir: d, fromUid: st.uid });
    } else if (user && st.gid !== user.gid) {
      await lchown(d, user.uid, user.gid);
    }
    await chmod(d, 0o700);
  }
  return handed;
}

/** Makes dir (0700; its parents as they come); whether it was made now. */
async function makeDir(dir: string): Promise<boolean> {
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o700 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Pure: the chown command that hands a tree from one uid to a user, following no symlink. */
export function chownArgv(dir: string, fromUid: number, to: Pick<AppUser, 'uid' | 'gid'>): string[] {
  return ['chown', '-R', '-P', '--no-dereference', `--from=${fromUid}`, `${to.uid}:${to.gid}`, '--', dir];
}

function chownTree(dir: string, fromUid: number, to: Pick<AppUser, 'uid' | 'gid'>): Promise<void> {
  const argv = chownArgv(dir, fromUid, to);
  return new Promise((resolve, reject) => {
    let err = '';
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (b: Buffer) => { if (err.length < 2000) err += b.toString(); });
    const fail = (why: string) => reject(new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `cannot hand ${dir} over from uid ${fromUid} to uid ${to.uid} (the app's user changed): ${argv.join(' ')} ${why}; fix it by hand (as root), then retry`));
    child.on('error', (e) => fail(`did not run: ${e.message}`));
    child.on('close', (code) => (code === 0 ? resolve() : fail(`exited with code ${code}${err ? `: ${err.trim()}` : ''}`)));
  });
}
