// One GET of an artifact store's URL, as the agent's download
// (agent/storage/download/) and the coordinator's publish check need it:
// HTTPS with the store's own CA bundle where one is configured, through
// HTTPS_PROXY (a CONNECT tunnel) unless NO_PROXY names the host, an optional
// auth header (sent only to the URL's own origin, never after a redirect to
// another one: a presigned redirect would refuse it), a Range from an offset,
// and redirects followed (at most 5). The answer is the response, unread.
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import { SlipwayError } from './errors.js';

export interface StoreHttpSettings {
  /** PEM CA bundle for the store's certificate; none: the system's roots. */
  ca?: Buffer;
  /** `Name: value`, read from the agent's fetch.auth_header_file; sent to the URL's origin only. */
  authHeader?: [string, string];
  /** http:// URLs are taken only for loopback hosts, unless this is set (fetch.allow_http). */
  allowHttp?: boolean;
  /** The environment the proxy is read from (HTTPS_PROXY, NO_PROXY, lower case too). */
  env?: NodeJS.ProcessEnv;
  /** How long connecting (and the proxy's CONNECT) may take. */
  connectMs: number;
}

const MAX_REDIRECTS = 5;

/** Pure: a URL for logs and messages, without its query (a presigned URL's signature) and credentials. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/** Pure: what is wrong with a store URL for this agent, or undefined. */
export function urlProblem(url: string, allowHttp: boolean): string | undefined {
  let u: URL;
  try { u = new URL(url); } catch { return `the store URL ${JSON.stringify(url.slice(0, 200))} is not a URL`; }
  if (u.username || u.password) return `the store URL ${redactUrl(url)} carries credentials; give them in the agent's fetch.auth_header_file or presign the URL`;
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && (allowHttp || isLoopbackHost(u.hostname))) return undefined;
  if (u.protocol === 'http:') return `the store URL ${redactUrl(url)} is plain http; use https, or set fetch.allow_http: true in the agent's config (the sha256 and the signature are still checked)`;
  return `the store URL ${redactUrl(url)} is ${u.protocol.replace(':', '')}, not https`;
}

function isLoopbackHost(h: string): boolean {
  const host = h.startsWith('[') ? h.slice(1, -1) : h;
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Pure: the proxy to use for a URL (RFC-less but usual rules: NO_PROXY host suffixes, `*`), or undefined. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const raw = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!raw) return undefined;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const [name, port] = entry.split(/:(?=\d+$)/);
    if (port && port !== (url.port || (url.protocol === 'https:' ? '443' : '80'))) continue;
    const bare = name.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new SlipwayError('SLIPWAY_ERR_CONFIG', `the agent's HTTPS_PROXY ${JSON.stringify(raw)} is not a URL`);
  }
}

export const fetchError = (msg: string) => new SlipwayError('SLIPWAY_ERR_STORE_FETCH', msg);

/** A failure worth another request (a dropped or refused connection, a 5xx): the download resumes. */
export class RetryableFetchError extends Error {}

/** A CONNECT tunnel through the proxy to host:port, as a plain socket. */
function tunnel(proxy: URL, host: string, port: number, connectMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${host}:${port}` };
    if (proxy.username) headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
    const req = httpRequest({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80), method: 'CONNECT', path: `${host}:${port}`, headers, timeout: connectMs });
    req.once('connect', (res: IncomingMessage, sock: Socket) => {
      if (res.statusCode === 200) return resolve(sock);
      sock.destroy();
      reject(new RetryableFetchError(`the proxy ${proxy.host} answered ${res.statusCode} to CONNECT ${host}:${port}`));
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', (err) => reject(new RetryableFetchError(`the proxy ${proxy.host} could not be reached: ${err.message}`)));
    req.end();
  });
}

/** TLS errors are the store's (or our CA bundle's) fault, and another request gives the same. */
function isTlsError(err: NodeJS.ErrnoException): boolean {
  return /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(err.code ?? '') || /certificate/i.test(err.message);
}

export interface Got {
  res: IncomingMessage;
  req: ClientRequest;
  /** The URL that answered (after redirects), redacted. */
  where: string;
}

/**
 * GETs url from byte `offset` on. 2xx answers are returned unread; a 4xx
 * is a SLIPWAY_ERR_STORE_FETCH error, a 5xx/429 or a connection failure a
 * RetryableFetchError.
 */
export async function get(url: string, offset: number, settings: StoreHttpSettings, range?: string): Promise<Got> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const problem = urlProblem(current, settings.allowHttp === true);
    if (problem) throw fetchError(problem);
    const u = new URL(current);
    const headers: Record<string, string> = { 'user-agent': 'slipway-agent', 'accept-encoding': 'identity' };
    if (range) headers.range = range;
    else if (offset > 0) headers.range = `bytes=${offset}-`;
    if (settings.authHeader && u.origin === origin) headers[settings.authHeader[0]] = settings.authHeader[1];
    const res = await once(u, headers, settings);
    const status = res.res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.res.headers.location) {
      res.res.resume();
      res.req.destroy();
      current = new URL(res.res.headers.location, current).toString();
      continue;
    }
    if (status >= 200 && status < 300) return res;
    res.res.resume();
    res.req.destroy();
    const why = `the artifact store answered ${status} ${res.res.statusMessage ?? ''} for ${redactUrl(current)}`.trimEnd();
    if (status >= 500 || status === 429 || status === 408) throw new RetryableFetchError(why);
    if (status === 404) throw fetchError(`${why}: the release is not published there (slipway publish ENV VERSION publishes it)`);
    if (status === 401 || status === 403) throw fetchError(`${why}: check the agent's fetch.auth_header_file, or the presigned URL's expiry`);
    if (status === 416) throw new RetryableFetchError(`${why} (a Range the store did not take)`);
    throw fetchError(why);
  }
  throw fetchError(`more than ${MAX_REDIRECTS} redirects from ${redactUrl(url)}`);
}

async function once(u: URL, headers: Record<string, string>, settings: StoreHttpSettings): Promise<Got> {
  const https = u.protocol === 'https:';
  const port = Number(u.port || (https ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const proxy = proxyFor(u, settings.env ?? process.env);
  let tunnelled: Socket | undefined;
  if (proxy && https) tunnelled = await tunnel(proxy, host, port, settings.connectMs);
  return new Promise((resolve, reject) => {
    const tlsOpts = { ca: settings.ca, servername: isIP(host) ? undefined : host, minVersion: 'TLSv1.2' as const };
    const path = proxy && !https ? u.toString() : `${u.pathname}${u.search}`;
    const common = { method: 'GET', path, headers, timeout: settings.connectMs, agent: false as const };
    let req: ClientRequest;
    if (https) {
      req = httpsRequest({
        ...common, host, port, ...tlsOpts,
        ...(tunnelled ? { createConnection: (): TLSSocket => tlsConnect({ socket: tunnelled, host, ...tlsOpts }) } : {}),
      });
    } else if (proxy) {
      req = httpRequest({ ...common, host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80) });
    } else {
      req = httpRequest({ ...common, host, port });
    }
    req.once('response', (res) => {
      req.setTimeout(0);
      resolve({ res, req, where: redactUrl(u.toString()) });
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${settings.connectMs} ms`), { code: 'ETIMEDOUT' })));
    req.once('error', (err: NodeJS.ErrnoException) => {
      tunnelled?.destroy();
      const msg = `cannot fetch ${redactUrl(u.toString())}: ${err.message}`;
      reject(isTlsError(err) ? fetchError(`${msg} (the store's certificate: give its CA in the agent's fetch.ca)`) : new RetryableFetchError(msg));
    });
    req.end();
  });
}
