// `slipway init`: writes a commented starting slipway.yaml for the app's
// language (one that passes the config schema as it is, so `slipway build`
// can run right after): the directory's files decide, or --lang.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { APP_NAME_RE } from '../common/names.js';
import { DEFAULT_CONFIG_FILE } from './config.js';
import { BuildError } from './build/errors.js';
import { LANGS, MARKERS, detectLang, isLang, templateText, type Lang, type TemplateFacts } from './init-templates.js';

/** The starting slipway.yaml for `lang` (default node), for a directory with these facts. */
export function initConfigText(appName: string, lang: Lang = 'node', facts: Omit<TemplateFacts, 'app'> = { files: new Set() }): string {
  if (!APP_NAME_RE.test(appName)) {
    throw new BuildError(`"${appName}" is not a valid app name: use 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit`, { usage: true });
  }
  return templateText(lang, { ...facts, app: appName });
}

/** --lang's value, or a usage error (exit 2) listing the choices. */
export function parseLang(value: string): Lang {
  if (isLang(value)) return value;
  throw new BuildError(`--lang must be one of ${LANGS.join(', ')}, not "${value}"`, { usage: true });
}

/** An app name from a package name or a directory name: "@acme/My App" → "my-app". */
export function appNameFrom(name: string): string | undefined {
  const cleaned = name.replace(/^@[^/]*\//, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '').slice(0, 63);
  return APP_NAME_RE.test(cleaned) ? cleaned : undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // missing or unreadable: the next guess
  }
}

/** The name the project gives itself in its own files (package.json, pyproject.toml, go.mod, mix.exs). */
export function projectName(file: string, text: string): string | undefined {
  switch (file) {
    case 'package.json': {
      try {
        const pkg: unknown = JSON.parse(text);
        const name = typeof pkg === 'object' && pkg !== null ? (pkg as { name?: unknown }).name : undefined;
        return typeof name === 'string' ? name : undefined;
      } catch {
        return undefined;
      }
    }
    case 'pyproject.toml': return /^\s*name\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];
    // The last path element, not a major-version suffix: example.com/shop/v2 → shop.
    case 'go.mod': return /^module\s+(\S+)/m.exec(text)?.[1].split('/').filter((p) => !/^v\d+$/.test(p)).at(-1);
    case 'mix.exs': return /\bapp:\s*:([a-z_][a-z0-9_]*)/.exec(text)?.[1];
    default: return undefined;
  }
}

async function guessAppName(dir: string, lang: Lang): Promise<string> {
  const first: Partial<Record<Lang, string>> = { node: 'package.json', python: 'pyproject.toml', go: 'go.mod', elixir: 'mix.exs' };
  for (const file of [first[lang], 'package.json'].filter((f): f is string => f !== undefined)) {
    const text = await readText(join(dir, file));
    const name = text === undefined ? undefined : projectName(file, text);
    const app = name === undefined ? undefined : appNameFrom(name);
    if (app) return app;
  }
  return appNameFrom(basename(resolve(dir))) ?? 'app';
}

/** The top-level file names of `dir` (empty when it cannot be read). */
async function topLevelFiles(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    return new Set();
  }
}

export interface InitResult {
  /** The file written. */
  file: string;
  lang: Lang;
  /** How the language was chosen: --lang, a marker file, or nothing found (generic). */
  by: 'option' | 'none' | string;
  /** Other languages' marker files found (the config is for `lang` only). */
  others: string[];
}

/**
 * Writes `<dir>/slipway.yaml` for `lang`, or for the language the directory's
 * files show (coordinator/init-templates.ts: detectLang); refuses to
 * overwrite one unless `force`.
 */
export async function writeInitConfig(dir: string, opts: { force?: boolean; app?: string; lang?: Lang } = {}): Promise<InitResult> {
  const path = join(resolve(dir), DEFAULT_CONFIG_FILE);
  const files = await topLevelFiles(dir);
  const detected = detectLang(files);
  const lang = opts.lang ?? detected.lang;
  // A mix release is named after the mix project's app, whatever the slipway app is called.
  const mixText = lang === 'elixir' ? await readText(join(dir, 'mix.exs')) : undefined;
  const release = mixText === undefined ? undefined : projectName('mix.exs', mixText);
  const text = initConfigText(opts.app ?? (await guessAppName(dir, lang)), lang, { files, release });
  try {
    await writeFile(path, text, { flag: opts.force ? 'w' : 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BuildError(`${path} already exists; keep it, or overwrite it with --force`, { usage: true });
    }
    throw err;
  }
  const by = opts.lang ? 'option' : detected.by ?? 'none';
  const others = opts.lang ? MARKERS.filter((m) => files.has(m.file) && m.lang !== opts.lang).map((m) => m.file) : detected.others;
  return { file: path, lang, by, others };
}
