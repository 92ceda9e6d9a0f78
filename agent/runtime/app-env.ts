// The environment an app version gets: a small base from the agent's own
// (PATH, locale, time zone; HOME, USER and LOGNAME those of app_user when
// apps run as one), then the manifest's run.env, then the host's own
// settings from shared/env (KEY=VALUE lines), which win. Last come the app's
// own writable places, which nothing overrides: SLIPWAY_DATA_DIR and
// SLIPWAY_TMP_DIR (also TMPDIR), apps/<app>/data and apps/<app>/tmp (made
// by app-dirs.ts: owned by the app's user, 0700, kept across releases; the
// release dirs stay read-only: an app writes only there and to its sockets).
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** The user an app runs as (agent config app_user, app_users: app-users.ts), from /etc/passwd. */
export interface AppUser { name: string; uid: number; gid: number; home: string }

/** Where an app may write: its data dir (state that outlives releases) and its tmp dir (scratch). */
export interface AppDirs { data: string; tmp: string }

const BASE_KEYS = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME', 'USER', 'LOGNAME', 'TMPDIR'];

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    let value = line.slice(eq + 1);
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  }
  return out;
}

export async function appEnvironment(manifestEnv: Record<string, string>, sharedEnvFile: string, user?: AppUser, dirs?: AppDirs): Promise<Record<string, string>> {
  const base: Record<string, string> = {};
  for (const k of BASE_KEYS) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  base.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  if (user) Object.assign(base, { HOME: user.home, USER: user.name, LOGNAME: user.name });
  let shared: Record<string, string> = {};
  try {
    shared = parseEnvFile(await readFile(sharedEnvFile, 'utf8'));
  } catch {
    shared = {};
  }
  if (dirs) base.TMPDIR = dirs.tmp;
  const own: Record<string, string> = dirs ? { SLIPWAY_DATA_DIR: dirs.data, SLIPWAY_TMP_DIR: dirs.tmp } : {};
  return { ...base, ...manifestEnv, ...shared, ...own };
}

/** A user from /etc/passwd, for running apps unprivileged when the agent is root. */
export async function lookupUser(name: string, passwdFile = '/etc/passwd'): Promise<AppUser | undefined> {
  try {
    for (const line of (await readFile(passwdFile, 'utf8')).split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** The variables an Erlang VM takes flags from (erl's, and Elixir's for its releases). */
const ERL_FLAG_VARS = ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'];

/**
 * Pure: where an app's settings turn Erlang's heart on (-heart in the VM's
 * flags or a release's vm.args, or HEART_COMMAND), if they do. Under slipway
 * the supervising process is the heart (run.restart, crash loops, the
 * automatic rollback); heart would restart BEAMs outside its supervision
 * (and every `bin/app rpc` helper starts a heart of its own).
 */
export function heartSettings(env: Record<string, string>, vmArgs: { file: string; text: string }[] = []): string[] {
  const found: string[] = [];
  for (const k of ERL_FLAG_VARS) if (/(^|\s)-heart(\s|$)/.test(env[k] ?? '')) found.push(`${k} has -heart`);
  if (env.HEART_COMMAND) found.push('HEART_COMMAND is set');
  for (const { file, text } of vmArgs) {
    if (text.split('\n').some((l) => /^\s*-heart(\s|$)/.test(l))) found.push(`${file} has -heart`);
  }
  return found;
}

/** The vm.args files of the Erlang/Elixir releases inside a release dir (releases/*\/vm.args, one level down too), with their text. */
export async function releaseVmArgs(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  const list = (d: string) => readdir(d, { withFileTypes: true }).then((es) => es.filter((e) => e.isDirectory()).map((e) => join(d, e.name)), () => [] as string[]);
  for (const root of [dir, ...(await list(dir))]) {
    for (const vsn of await list(join(root, 'releases'))) {
      const file = join(vsn, 'vm.args');
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) out.push({ file: relative(dir, file), text });
    }
  }
  return out;
}
