// An artifact store the agents pull releases from (slipway.yaml's store):
// whether a release is there (a one-byte ranged GET of the URL the agents
// fetch, which presigned GET URLs allow where HEAD is not), publishing it
// (a command run once, or an HTTP PUT), and the URL each agent is told.
// The coordinator then sends each agent only the URL, sha256, size and
// signature (rollout/deploy.ts); the agents check the bytes as they would an upload's.
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import { get, redactUrl, RetryableFetchError, type StoreHttpSettings } from '../../common/store-http.js';
import { ConfigError } from '../../common/config-file.js';
import { expandCommand, expandUrl, unknownPlaceholders, type StoreVars } from './template.js';
import type { EnvironmentConfig, LoadedConfig, StoreConfig } from '../config.js';

export interface ReleaseForStore {
  app: string;
  version: string;
  sha256: string;
  size: number;
  file: string;
}

/** The environment's store (its own, else the top level's), or undefined: push. Placeholders are checked here. */
export function storeFor(loaded: LoadedConfig, env: EnvironmentConfig): StoreConfig | undefined {
  const s = env.store === false ? undefined : (env.store ?? loaded.config.store);
  if (!s) return undefined;
  const problems: string[] = [];
  const check = (what: string, t: string | string[], file: boolean) => {
    for (const part of typeof t === 'string' ? [t] : t) {
      const bad = unknownPlaceholders(part, file);
      if (bad.length) problems.push(`store.${what}: unknown placeholder ${bad.map((b) => `{${b}}`).join(', ')}; use {app}, {version}, {sha256}, {size}, {env}${file ? ', {file}' : ''}`);
    }
  };
  check('url', s.url, false);
  if (s.url_command) check('url_command', s.url_command, false);
  if ('command' in s.publish) check('publish.command', s.publish.command, true);
  else check('publish.put', s.publish.put, false);
  if (problems.length) throw new ConfigError(loaded.file, problems);
  return {
    ...s,
    ...(s.ca ? { ca: resolve(loaded.root, s.ca) } : {}),
    ...(s.auth_header_file ? { auth_header_file: resolve(loaded.root, s.auth_header_file) } : {}),
  };
}

function httpSettings(store: StoreConfig): StoreHttpSettings {
  const read = (f: string, key: string) => {
    try { return readFileSync(f); } catch (err) { throw new SlipwayError('SLIPWAY_ERR_CONFIG', `cannot read store.${key} ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
  };
  let authHeader: [string, string] | undefined;
  if (store.auth_header_file) {
    const line = read(store.auth_header_file, 'auth_header_file').toString('utf8').split(/\r?\n/).map((l) => l.trim()).find(Boolean) ?? '';
    const m = /^([A-Za-z0-9-]{1,64}):\s*(.+)$/.exec(line);
    authHeader = m ? [m[1].toLowerCase(), m[2]] : ['authorization', line];
  }
  return { ca: store.ca ? read(store.ca, 'ca') : undefined, authHeader, allowHttp: true, connectMs: 15_000 };
}

export function storeVars(rel: ReleaseForStore, env: string): StoreVars {
  return { app: rel.app, version: rel.version, sha256: rel.sha256, size: rel.size, env, file: rel.file };
}

/**
 * Whether the store serves `size` bytes at url (the content is the agents' to
 * check): 'unknown' when the coordinator may not look (401/403) or cannot
 * reach it (a store only the hosts can reach).
 */
export async function isPublished(store: StoreConfig, url: string, size: number): Promise<'yes' | 'no' | 'unknown'> {
  let got;
  try {
    got = await get(url, 0, httpSettings(store), 'bytes=0-0');
  } catch (err) {
    if (err instanceof SlipwayError && / answered 404/.test(err.message)) return 'no';
    if (err instanceof RetryableFetchError || (err instanceof SlipwayError && / answered 40[13]/.test(err.message))) return 'unknown';
    throw err;
  }
  got.req.destroy();
  const h = got.res.headers;
  const total = got.res.statusCode === 206 ? Number(/\/(\d+)$/.exec(h['content-range'] ?? '')?.[1]) : Number(h['content-length']);
  return total === size ? 'yes' : 'no';
}

/** The URL agents are told: url_command's output (a presigned URL, made once per deploy), else the url template. */
export async function agentUrl(store: StoreConfig, vars: StoreVars, root: string): Promise<string> {
  if (!store.url_command) return expandUrl(store.url, vars);
  const { stdout } = await run(expandCommand(store.url_command, vars), root, 'url_command', () => {});
  const url = stdout.trim().split('\n').pop() ?? '';
  if (!/^https?:\/\//.test(url)) throw new SlipwayError('SLIPWAY_ERR_PUBLISH', `store.url_command printed ${JSON.stringify(url.slice(0, 80))}, not a URL`);
  return url;
}

export interface PublishResult {
  how: 'command' | 'put';
  url: string;
  bytes: number;
  seconds: number;
}

/** Puts the release into the store: publish.command (run once, output shown through `say`) or an HTTP PUT of the file. */
export async function publish(store: StoreConfig, rel: ReleaseForStore, vars: StoreVars, root: string, say: (line: string) => void): Promise<PublishResult> {
  const t0 = performance.now();
  const url = expandUrl(store.url, vars);
  if ('command' in store.publish) {
    await run(expandCommand(store.publish.command, vars), root, 'publish', say);
    return { how: 'command', url: redactUrl(url), bytes: rel.size, seconds: (performance.now() - t0) / 1000 };
  }
  const target = expandUrl(store.publish.put, vars);
  await put(target, rel, httpSettings(store));
  return { how: 'put', url: redactUrl(target), bytes: rel.size, seconds: (performance.now() - t0) / 1000 };
}

function run(argv: string[], cwd: string, what: string, say: (line: string) => void): Promise<{ stdout: string }> {
  return new Promise((res, rej) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    if (what === 'publish') createInterface({ input: child.stdout }).on('line', (l) => say(`${what} | ${l}`));
    createInterface({ input: child.stderr }).on('line', (l) => say(`${what} | ${l}`));
    child.on('error', (err) => rej(new SlipwayError('SLIPWAY_ERR_PUBLISH', `store.${what} could not start: ${err.message}`)));
    child.on('close', (code, signal) => (code === 0 ? res({ stdout })
      : rej(new SlipwayError('SLIPWAY_ERR_PUBLISH', `store.${what} failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${argv.join(' ').slice(0, 300)}`))));
  });
}

function put(url: string, rel: ReleaseForStore, settings: StoreHttpSettings): Promise<void> {
  const u = new URL(url);
  const headers: Record<string, string | number> = { 'content-length': rel.size, 'content-type': 'application/gzip', 'user-agent': 'slipway' };
  if (settings.authHeader) headers[settings.authHeader[0]] = settings.authHeader[1];
  return new Promise((res, rej) => {
    const fail = (why: string) => rej(new SlipwayError('SLIPWAY_ERR_PUBLISH', `PUT ${redactUrl(url)}: ${why}`));
    const opts = { method: 'PUT', host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}`, headers, ca: settings.ca };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(opts, (r: IncomingMessage) => {
      r.resume();
      const s = r.statusCode ?? 0;
      if (s >= 200 && s < 300) res();
      else fail(`the store answered ${s} ${r.statusMessage ?? ''}`.trimEnd());
    });
    req.on('error', (err) => fail(err.message));
    createReadStream(rel.file).on('error', (err) => { req.destroy(); fail(`cannot read ${rel.file}: ${err.message}`); }).pipe(req);
  });
}

/**
 * Publishes unless the store already serves the release at checkUrl (the
 * URL the agents get); after a publish, a store that answers and still does
 * not serve it is an error (publish and url disagree).
 */
export async function publishIfMissing(store: StoreConfig, rel: ReleaseForStore, vars: StoreVars, checkUrl: string, root: string, say: (line: string) => void): Promise<PublishResult | undefined> {
  if (await isPublished(store, checkUrl, rel.size) === 'yes') return undefined;
  const r = await publish(store, rel, vars, root, say);
  if (await isPublished(store, checkUrl, rel.size) === 'no') {
    throw new SlipwayError('SLIPWAY_ERR_PUBLISH', `published ${rel.app} ${rel.version}, but ${redactUrl(checkUrl)} does not serve ${rel.size} bytes; check that store.publish puts the file where store.url reads it`);
  }
  return r;
}
