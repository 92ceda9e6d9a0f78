// A host's own settings for an app: apps/<app>/shared/env, KEY=VALUE lines,
// owner-only, written atomically, kept across releases. Changes apply at the
// next start or activation (`slipway restart` applies them with a hot swap).
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalid } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/atomic.js';
import { parseEnvFile } from './app-env.js';
import { explainDiskFull } from '../storage/disk-space.js';

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VALUE = 64 * 1024;

export function envChangeProblem(set: Record<string, string>, unset: string[]): string | undefined {
  for (const k of [...Object.keys(set), ...unset]) {
    if (!KEY_RE.test(k)) return `"${k.slice(0, 80)}" is not an environment variable name (letters, digits and _, not starting with a digit)`;
  }
  for (const [k, v] of Object.entries(set)) {
    if (/[\n\r\0]/.test(v)) return `the value of ${k} holds a line break or NUL, which a shared/env file cannot keep`;
    if (v.length > MAX_VALUE) return `the value of ${k} is longer than ${MAX_VALUE} characters`;
  }
  if (Object.keys(set).length === 0 && unset.length === 0) return 'nothing to change: give KEY=VALUE to set or KEY to unset';
  return undefined;
}

/** One line; quoted when reading it back unquoted would change it. */
export function formatEnvLine(key: string, value: string): string {
  const needsQuotes = value !== value.trim() || /^(["']).*\1$/s.test(value) || value.startsWith('#');
  return `${key}=${needsQuotes ? `"${value}"` : value}`;
}

export async function readSharedEnv(file: string): Promise<Record<string, string>> {
  try {
    return parseEnvFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/**
 * Changes the file; apps: the state dir's apps/, made (0711: passed through,
 * never listed) when the first thing on the host is a setting made before
 * the app's first deploy (the unpack and the next agent start give its
 * directories their modes).
 */
export async function changeSharedEnv(file: string, set: Record<string, string>, unset: string[], apps?: string): Promise<Record<string, string>> {
  const problem = envChangeProblem(set, unset);
  if (problem) throw invalid(problem);
  const env = { ...(await readSharedEnv(file)), ...set };
  for (const k of unset) delete env[k];
  const text = Object.keys(env).sort().map((k) => formatEnvLine(k, env[k])).join('\n');
  try {
    if (apps) await mkdir(apps, { recursive: true, mode: 0o711 });
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `# this host's settings for the app; managed with slipway env\n${text}${text ? '\n' : ''}`, 0o600);
  } catch (err) {
    throw await explainDiskFull(err, dirname(file), 'shared/env was not changed (it keeps its old content)');
  }
  return env;
}
