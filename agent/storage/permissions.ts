// Apps without root (docs/security.md): when the agent runs as root and
// app_user or app_users is set, apps, tasks and upgrade commands run as the
// app's user (runtime/app-users.ts), and the state dir is laid out so that
// it can reach and read its releases and nothing else:
//
//   state_dir/                  others: search only (--x), never list
//     agent.json, locks.json,
//     history.jsonl             0600
//     run/                      0700 (the supervisor's socket)
//     apps/                     0711 (0750 without app_user)
//       <app>/                  0711 (0750)
//         state.json            0600
//         store/                0700, tarballs and their meta 0600
//         shared/               0700, env 0600: the app gets it through the agent
//         logs/                 0750, files 0640: only the supervisor writes them
//         data/, tmp/           the app's user's, 0700: the app's own (runtime/app-dirs.ts)
//         releases/             0711 (0750)
//           <version>-<sha12>/  owned by the agent, dirs 0755, files 0644 or 0755
//
// So app_user can read and run its release (it knows its own directory) but
// cannot change a byte of it, list other releases, read the store, the state,
// the locks, its host settings or its logs, nor write its logs.
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { appsDir, type AppPaths } from '../paths.js';
import type { Logger } from '../logger.js';

export interface AppUser {
  uid: number;
  gid: number;
}

async function chmodIfThere(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The state dir's own entries; run at every start (and fixes what an older agent wrote). */
export async function secureStateDir(stateDir: string, user: AppUser | undefined, log: Logger): Promise<void> {
  if (user) {
    const st = await stat(stateDir);
    // Others never list or write it; app_user must pass through it (as an
    // "other", or through its group: the systemd unit's Group=slipway).
    const cls = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
    let want = st.mode & 0o771;
    if (((want >> cls) & 1) === 0) want |= 1 << cls;
    if ((st.mode & 0o777) !== want) {
      await chmod(stateDir, want);
      log.info({ state_dir: stateDir, mode: want.toString(8), was: (st.mode & 0o777).toString(8) }, 'state_dir: app_user may pass through it (to reach its release), not list or write it');
    }
  }
  await chmodIfThere(appsDir(stateDir), user ? 0o711 : 0o750);
  for (const f of ['agent.json', 'locks.json', 'history.jsonl']) await chmodIfThere(join(stateDir, f), 0o600);
}

/** An app's directory and what it holds (not the release trees: lockDownRelease); unprivileged: apps run as users of their own. */
export async function secureAppDir(p: AppPaths, unprivileged: boolean): Promise<void> {
  await chmodIfThere(p.root, unprivileged ? 0o711 : 0o750);
  await chmodIfThere(p.releases, unprivileged ? 0o711 : 0o750);
  await chmodIfThere(p.store, 0o700);
  await chmodIfThere(p.shared, 0o700);
  await chmodIfThere(p.logs, 0o750);
  await chmodIfThere(p.state, 0o600);
}

/**
 * A release tree as app_user may see it: every entry owned by the agent
 * (root), directories 0755, files 0755 when the archive made them
 * executable and 0644 otherwise, no setuid/setgid/sticky bit. Symlinks are
 * only chowned (their mode means nothing). Anything else (the unpacker
 * refuses devices and FIFOs) is an error.
 */
export async function lockDownRelease(dir: string): Promise<number> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let n = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop() as string;
    await lchown(d, uid, gid);
    await chmod(d, 0o755);
    n++;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        stack.push(p);
      } else if (e.isSymbolicLink()) {
        await lchown(p, uid, gid);
        n++;
      } else if (e.isFile()) {
        const st = await lstat(p);
        await lchown(p, uid, gid);
        await chmod(p, st.mode & 0o111 ? 0o755 : 0o644);
        n++;
      } else {
        throw new Error(`release directory ${dir} holds ${p}, which is neither a file, a directory nor a symlink`);
      }
    }
  }
  return n;
}

/**
 * Whether a user (its uid and primary group: the app runs without
 * supplementary groups) may do `want` (4 read, 2 write, 1 search) on `path`,
 * passing through every directory above it. Root's own answers are not
 * modelled: call it for app_user.
 */
export async function userMay(path: string, user: AppUser, want: 4 | 2 | 1): Promise<boolean> {
  const abs = resolve(path);
  const bits = async (p: string, w: number) => {
    const st = await stat(p);
    const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
    return ((st.mode >> shift) & w) === w;
  };
  try {
    for (let d = dirname(abs); ; d = dirname(d)) {
      if (!(await bits(d, 1))) return false;
      if (d === dirname(d)) break;
    }
    return await bits(abs, want);
  } catch {
    return false;
  }
}
