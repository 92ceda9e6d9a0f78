// Who each app runs as (agent config app_user and app_users; docs/security.md
// "Apps without root"). Only when the agent runs as root:
//   app_user: NAME             every app runs as NAME (one uid for all of them)
//   app_users: per_app         every app runs as its own system user,
//                              slipway-<app>, which the agent makes with
//                              useradd when it is missing (like systemd's
//                              DynamicUser, but a real, lasting user: files
//                              keep a named owner across restarts)
//   app_users: { APP: NAME }   these apps run as these users (the operator's,
//                              which must exist); the others as app_user
// An app's user owns its data and tmp dirs (0700), so that apps with their
// own users cannot read each other's; everything the app runs (its
// processes, tasks, upgrade commands, health check commands) runs as it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SlipwayError } from '../../common/errors.js';
import { perAppUserName, APP_USER_COMMENT } from '../../common/app-user-name.js';
import { lookupUser, type AppUser } from './app-env.js';
import type { Logger } from '../logger.js';

export { perAppUserName };

export interface AppUsersConfig {
  app_user?: string;
  app_users?: 'per_app' | Record<string, string>;
}

/** Pure: the user an app runs as under the config (none: as the agent), and whether the agent makes it when it is missing. */
export function userFor(app: string, c: AppUsersConfig): { name: string; make: boolean } | undefined {
  if (c.app_users === 'per_app') return { name: perAppUserName(app), make: true };
  const mapped = c.app_users?.[app];
  if (mapped !== undefined) return { name: mapped, make: false };
  return c.app_user !== undefined ? { name: c.app_user, make: false } : undefined;
}

/** Pure: the key of the config that names an app's user, for error messages. */
function keyFor(app: string, c: AppUsersConfig): string {
  if (c.app_users === 'per_app') return 'app_users: per_app';
  return c.app_users?.[app] !== undefined ? `app_users.${app}` : 'app_user';
}

/** The useradd command that makes a per-app user (its home is the app's data dir, its own group, no login). */
export function useraddArgv(name: string, app: string, home: string): string[] {
  return ['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', '--comment', `${APP_USER_COMMENT} ${app}`, name];
}

/** What to do about a user the config names that is missing, or that is root. */
const missingUser = (name: string) => `does not exist on this host; create it (useradd --system --no-create-home --shell /usr/sbin/nologin ${name})`;
const ROOT_USER = 'has uid 0: apps would run as root';

export interface AppUsersOptions {
  /** Where a user made here is told of (none: --check, which makes none). */
  log?: Logger;
  /** The app's data dir (the home of a user made here). */
  dataDir: (app: string) => string;
  isRoot?: boolean;
  passwdFile?: string;
}

export class AppUsers {
  private readonly found = new Map<string, AppUser>();
  /** useradd runs one at a time (it locks /etc/passwd, and a second one would fail instead of waiting). */
  private making: Promise<unknown> = Promise.resolve();
  private readonly isRoot: boolean;

  constructor(private readonly c: AppUsersConfig, private readonly o: AppUsersOptions) {
    this.isRoot = o.isRoot ?? process.getuid?.() === 0;
  }

  /** Whether apps run as users of their own kind (not as the agent): release trees are then locked down for them. */
  get unprivileged(): boolean {
    return this.isRoot && (this.c.app_user !== undefined || this.c.app_users !== undefined);
  }

  /** Whether each app gets its own user made here (apps not yet deployed included). */
  get perApp(): boolean {
    return this.isRoot && this.c.app_users === 'per_app';
  }

  /**
   * The user the app runs as (none when the agent is not root, or the
   * config names none); a per-app user is made when missing. Throws a
   * SlipwayError that says what to do when the user is missing, cannot be
   * made, or is root.
   */
  async forApp(app: string): Promise<AppUser | undefined> {
    if (!this.isRoot) return undefined;
    const want = userFor(app, this.c);
    if (!want) return undefined;
    const known = this.found.get(app);
    if (known) return known;
    let user = await lookupUser(want.name, this.o.passwdFile);
    if (!user && want.make) user = await this.make(app, want.name);
    if (!user) {
      throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `${app} runs as user "${want.name}" (agent config ${keyFor(app, this.c)}), which ${missingUser(want.name)} or change the config`);
    }
    if (user.uid === 0) {
      throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `${app} would run as user "${want.name}" (agent config ${keyFor(app, this.c)}), which ${ROOT_USER}; name an unprivileged user`);
    }
    this.found.set(app, user);
    return user;
  }

  /**
   * What --check (and the agent's start) says of the config's users, one
   * finding a user: app_user and each of the map's must exist and not be
   * root; per_app needs useradd, or every app's user made already.
   */
  async check(apps: string[] = []): Promise<{ ok: boolean; what: string; detail: string; warn?: boolean }[]> {
    const c = this.c;
    const named: [string, string][] = [
      ...(c.app_user !== undefined ? [['app_user', c.app_user] as [string, string]] : []),
      ...(typeof c.app_users === 'object' ? Object.entries(c.app_users).map(([app, n]) => [`app_users.${app}`, n] as [string, string]) : []),
    ];
    if (!this.isRoot) {
      const what = c.app_users !== undefined ? 'app_users' : 'app_user';
      return named.length > 0 || c.app_users !== undefined ? [{ ok: true, what, detail: 'not used: the agent does not run as root (apps run as the agent\'s user)' }] : [];
    }
    const out: { ok: boolean; what: string; detail: string; warn?: boolean }[] = [];
    for (const [what, name] of named) {
      const u = await lookupUser(name, this.o.passwdFile);
      const label = what === 'app_user' ? 'app_user' : 'user';
      if (!u) out.push({ ok: false, what, detail: `${label} "${name}" ${missingUser(name)} or change ${what}` });
      else if (u.uid === 0) out.push({ ok: false, what, detail: `${label} "${name}" ${ROOT_USER}; name an unprivileged user` });
      else out.push({ ok: true, what, detail: `${name} (uid ${u.uid})` });
    }
    if (c.app_users === 'per_app') {
      const made: string[] = [];
      const toMake: string[] = [];
      for (const app of apps) {
        const name = perAppUserName(app);
        const u = await lookupUser(name, this.o.passwdFile);
        if (u && u.uid === 0) out.push({ ok: false, what: 'app_users', detail: `${app}'s user ${name} ${ROOT_USER}; remove or fix that user` });
        else if (u) made.push(`${name} (uid ${u.uid})`);
        else toMake.push(name);
      }
      const useradd = await runQuietly(['useradd', '--help']);
      if (toMake.length > 0 && useradd.code === null) {
        out.push({ ok: false, what: 'app_users', detail: `per_app: ${toMake.join(', ')} must be made, and useradd is not installed (Debian's passwd package); install it or make them by hand` });
      } else {
        const parts = [made.length ? `users there: ${made.join(', ')}` : '', toMake.length ? `made at their app's start: ${toMake.join(', ')}` : ''].filter(Boolean);
        out.push({ ok: true, what: 'app_users', detail: `per_app: each app runs as its own user, slipway-<app>${parts.length ? ` (${parts.join('; ')})` : ''}${useradd.code === null ? '; useradd is not installed, so new apps\' users must be made by hand' : ''}`, warn: useradd.code === null });
      }
    }
    return out;
  }

  /** The users the config names (app_user, the map's): those that exist. */
  async named(): Promise<AppUser[]> {
    if (!this.isRoot) return [];
    const names = [this.c.app_user, ...(typeof this.c.app_users === 'object' ? Object.values(this.c.app_users) : [])];
    const out: AppUser[] = [];
    for (const n of new Set(names)) {
      const u = n === undefined ? undefined : await lookupUser(n, this.o.passwdFile);
      if (u) out.push(u);
    }
    return out;
  }

  private async make(app: string, name: string): Promise<AppUser | undefined> {
    const run = this.making.then(async () => {
      // Made meanwhile (by a call for the same app, or by hand): nothing to do.
      const there = await lookupUser(name, this.o.passwdFile);
      if (there) return there;
      const argv = useraddArgv(name, app, this.o.dataDir(app));
      const r = await runQuietly(argv);
      const after = await lookupUser(name, this.o.passwdFile);
      if (after) {
        this.o.log?.info({ app, user: name, uid: after.uid }, `made the system user ${name} (uid ${after.uid}) for ${app} (app_users: per_app)`);
        return after;
      }
      const readOnly = /read-only|cannot lock|cannot open/i.test(r.output) ? ' (/etc is read-only to the agent, as under the systemd unit\'s ProtectSystem=strict: make the user as root outside it, or let slipway setup make it)' : '';
      throw new SlipwayError('SLIPWAY_ERR_HOST_SETUP', `cannot make the user ${name} for ${app} (app_users: per_app): ${argv.join(' ')} ${r.code === null ? 'did not run' : `exited with code ${r.code}`}${r.output ? `: ${r.output.trim()}` : ''}${readOnly}; run that command as root, then retry`);
    });
    this.making = run.catch(() => undefined);
    return run;
  }
}

/** Runs a command; its exit code (null: it did not run) and its output. */
function runQuietly(argv: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    child.on('error', (err) => resolve({ code: null, output: err.message }));
    child.on('close', (code) => resolve({ code, output: output.slice(0, 2000) }));
  });
}

/** The effective uid of a process (the Uid line of /proc/<pid>/status), or undefined if it is gone. */
export function processUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
