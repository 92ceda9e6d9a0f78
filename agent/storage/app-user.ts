// Apps without root at the agent's start (agent/storage/permissions.ts has
// the layout): the paths already in the state dir given their modes for the
// users apps run as (agent/runtime/app-users.ts), and what would keep those
// users from their releases, or let them read the agent's key, warned of.
import type { AppUser } from '../runtime/app-env.js';
import type { AppUsers } from '../runtime/app-users.js';
import { secureStateDir, secureAppDir, lockDownRelease, userMay } from './permissions.js';
import { appsDir, AppPaths } from '../paths.js';
import { AGENT_APP } from '../../common/agent-build.js';
import type { Releases } from './releases.js';
import type { Logger } from '../logger.js';

/** Any user that is neither the state dir's owner nor in its group: a per-app user (app_users: per_app) of an app yet to come. */
const ANY_OTHER: AppUser = { name: 'any per-app user', uid: -1, gid: -1, home: '/' };

export interface ExistingPaths {
  stateDir: string;
  releases: Pick<Releases, 'apps' | 'list'>;
  users: Pick<AppUsers, 'unprivileged' | 'perApp' | 'forApp' | 'named'>;
  /** The agent's TLS key file (none: an insecure agent). */
  tlsKey: string | undefined;
  log: Logger;
}

/**
 * The users apps on this host run as: each app's (a per-app user is made
 * now when missing; one that cannot be is logged, and that app's start says
 * why again), and with app_users: per_app any other user too (apps to come).
 */
async function usersOf(apps: string[], users: ExistingPaths['users'], log: Logger): Promise<AppUser[]> {
  const out = new Map<number, AppUser>();
  for (const u of await users.named()) out.set(u.uid, u);
  for (const app of apps) {
    try {
      const u = await users.forApp(app);
      if (u) out.set(u.uid, u);
    } catch (err) {
      log.error({ app, err: (err as Error).message }, `${app} cannot start until its user is there: ${(err as Error).message}`);
    }
  }
  if (users.perApp) out.set(ANY_OTHER.uid, ANY_OTHER);
  return [...out.values()];
}

/**
 * The state dir's modes for the apps' users (or without any), every app's
 * directory, and, with users, every release already unpacked (an older
 * agent, or one without app_user, may have left them 0700). Warns when the
 * TLS key is readable by an app's user, or the releases are out of its reach.
 */
export async function secureExistingPaths({ stateDir, releases, users, tlsKey, log }: ExistingPaths): Promise<void> {
  const apps = (await releases.apps()).filter((a) => a !== AGENT_APP);
  const unprivileged = users.unprivileged;
  const who = unprivileged ? await usersOf(apps, users, log) : [];
  for (const u of who) await secureStateDir(stateDir, u, log);
  if (who.length === 0) await secureStateDir(stateDir, undefined, log);
  for (const app of await releases.apps()) {
    const p = new AppPaths(stateDir, app);
    await secureAppDir(p, unprivileged);
    if (!unprivileged) continue;
    for (const r of await releases.list(app)) {
      if (r.unpacked) await lockDownRelease(p.release(r.version, r.sha256));
    }
  }
  for (const user of who) {
    const name = user.name;
    if (tlsKey && await userMay(tlsKey, user, 4)) {
      log.warn({ key: tlsKey, app_user: name }, `${name} (an app's user) can read the agent's TLS key ${tlsKey}: make it 0600 (owned by root) in a directory apps cannot read`);
    }
    if (!(await userMay(appsDir(stateDir), user, 1))) {
      log.warn({ state_dir: stateDir, app_user: name }, `${name} (an app's user) cannot reach ${appsDir(stateDir)} (a directory above it lets only its owner or group through): apps will fail to start`);
    }
  }
}
