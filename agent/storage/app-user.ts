// Apps without root at the agent's start (agent/storage/permissions.ts has
// the layout): app_user looked up before anything is built with it, and the
// paths already in the state dir given its modes.
import { lookupUser, type AppUser } from '../runtime/app-env.js';
import { secureStateDir, secureAppDir, lockDownRelease, userMay } from './permissions.js';
import { appsDir, AppPaths } from '../paths.js';
import type { Releases } from './releases.js';
import type { Logger } from '../logger.js';

/** The user apps run as: app_user when the agent runs as root, else none. Throws when app_user is missing or root. */
export async function lookupAppUser(name: string | undefined, isRoot = process.getuid?.() === 0): Promise<AppUser | undefined> {
  if (!name || !isRoot) return undefined;
  const user = await lookupUser(name);
  if (!user) throw new Error(`app_user "${name}" does not exist on this host; create it or remove app_user`);
  if (user.uid === 0) throw new Error(`app_user "${name}" has uid 0: apps would run as root; name an unprivileged user`);
  return user;
}

export interface ExistingPaths {
  stateDir: string;
  releases: Pick<Releases, 'apps' | 'list'>;
  user: AppUser | undefined;
  /** The agent's TLS key file (none: an insecure agent). */
  tlsKey: string | undefined;
  log: Logger;
}

/**
 * The state dir's modes for app_user (or without one), every app's
 * directory, and, with app_user, every release already unpacked (an older
 * agent, or one without app_user, may have left them 0700). Warns when the
 * TLS key is readable by app_user, or the releases are out of its reach.
 */
export async function secureExistingPaths({ stateDir, releases, user, tlsKey, log }: ExistingPaths): Promise<void> {
  await secureStateDir(stateDir, user, log);
  for (const app of await releases.apps()) {
    const p = new AppPaths(stateDir, app);
    await secureAppDir(p, user);
    if (!user) continue;
    for (const r of await releases.list(app)) {
      if (r.unpacked) await lockDownRelease(p.release(r.version, r.sha256));
    }
  }
  if (!user) return;
  const name = user.name;
  if (tlsKey && await userMay(tlsKey, user, 4)) {
    log.warn({ key: tlsKey, app_user: name }, `app_user ${name} can read the agent's TLS key ${tlsKey}: make it 0600 (owned by root) in a directory apps cannot read`);
  }
  if (!(await userMay(appsDir(stateDir), user, 1))) {
    log.warn({ state_dir: stateDir, app_user: name }, `app_user ${name} cannot reach ${appsDir(stateDir)} (a directory above it lets only its owner or group through): apps will fail to start`);
  }
}
