// `slipway ui`'s HTTP server: the page's assets, the live state as
// server-sent events, a host's log (following), and actions when allowed.
// Browsers talk only to this process; it talks to the agents (live.ts).
//   GET  /                the page (ui/index.html; assets.ts)
//   GET  /api/state       the current snapshot, JSON
//   GET  /api/events      SSE: snapshot, then hosts and happenings (batched), history, notice(s)
//   GET  /api/history?env=E         JSON rows, newest first
//   GET  /api/logs?env=E&host=H&app=A   SSE: the app's last lines, then new ones
//   POST /api/actions     { action, env, host?, reason? } with --allow-actions
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Guard, COOKIE } from './guard.js';
import { loadAssets, type Asset } from './assets.js';
import { actionArgs, runAction, stepLines } from './actions.js';
import type { LiveFleet } from './live.js';
import type { Happening, HostView } from './model.js';

export interface UiServerOptions {
  live: LiveFleet;
  app: string;
  configFile: string;
  allowActions: boolean;
  token?: string;
  loopback: boolean;
  intervalMs: number;
  version: string;
}

const FLUSH_MS = 100;
const HISTORY_MIN_MS = 2000;
const RECENT = 300;
const MAX_LOG_STREAMS = 16;
const MAX_BUFFERED = 8 << 20;
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export class UiServer {
  readonly server: http.Server;
  private readonly guard: Guard;
  private readonly assets: Map<string, Asset>;
  private readonly clients = new Set<ServerResponse>();
  private readonly pending = new Map<string, { env: string; view: HostView }>();
  private readonly historyDue = new Set<string>();
  private readonly historySent = new Map<string, number>();
  private pendingHappenings: Happening[] = [];
  private readonly recent: Happening[] = [];
  private readonly notices: string[] = [];
  private flushTimer?: NodeJS.Timeout;
  private historyTimer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private logStreams = 0;
  private readonly busy = new Set<string>();

  constructor(private readonly o: UiServerOptions) {
    this.guard = new Guard(o.token, o.loopback);
    this.assets = loadAssets();
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => this.fail(res, 500, `slipway ui: ${String((err as Error)?.message ?? err)}`));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    o.live.on('host', (env, view) => { this.pending.set(`${env}\0${view.host}`, { env, view }); this.schedule(); });
    o.live.on('history', (env) => { this.historyDue.add(env); this.schedule(); });
    o.live.on('happening', (h) => {
      this.recent.push(h);
      if (this.recent.length > RECENT) this.recent.shift();
      this.pendingHappenings.push(h);
      this.schedule();
    });
    o.live.on('envs', () => this.broadcast('snapshot', this.snapshot()));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.heartbeat = setInterval(() => { for (const c of this.clients) c.write(': keep-alive\n\n'); }, 15_000);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    clearTimeout(this.flushTimer);
    clearTimeout(this.historyTimer);
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** A line shown on every page (e.g. slipway.yaml could not be read again). */
  notice(text: string): void {
    this.notices.push(text);
    if (this.notices.length > 20) this.notices.shift();
    this.broadcast('notice', { text, at: new Date().toISOString() });
  }

  /** The notices are out of date (slipway.yaml reads again). */
  clearNotices(): void {
    if (this.notices.length === 0) return;
    this.notices.length = 0;
    this.broadcast('notices', []);
  }

  private snapshot() {
    return {
      ...this.o.live.snapshot(),
      app: this.o.app, allow_actions: this.o.allowActions, interval_ms: this.o.intervalMs, version: this.o.version,
      server_time: new Date().toISOString(), recent: this.recent, notices: this.notices,
    };
  }

  /**
   * Host changes and activity lines are sent together every FLUSH_MS: 200 hosts answering in one second
   * are a few messages, not 200. An environment's history (up to 500 rows) at most every HISTORY_MIN_MS.
   */
  private schedule(): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      if (this.pending.size > 0) {
        const hosts = [...this.pending.values()];
        this.pending.clear();
        this.broadcast('hosts', { hosts, server_time: new Date().toISOString() });
      }
      if (this.pendingHappenings.length > 0) {
        this.broadcast('happenings', this.pendingHappenings);
        this.pendingHappenings = [];
      }
      const now = Date.now();
      for (const env of this.historyDue) {
        if (now - (this.historySent.get(env) ?? 0) < HISTORY_MIN_MS) continue;
        this.historySent.set(env, now);
        this.historyDue.delete(env);
        this.broadcast('history', { env, rows: this.o.live.history(env) });
      }
      if (this.historyDue.size > 0) this.historyTimer ??= setTimeout(() => { this.historyTimer = undefined; this.schedule(); }, HISTORY_MIN_MS);
    }, FLUSH_MS);
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) {
      // A page that does not read (a suspended tab, a stalled network) is dropped rather than buffered without
      // end; its EventSource reconnects and starts again from a snapshot.
      if (c.writableLength > MAX_BUFFERED) { this.clients.delete(c); c.destroy(); continue; }
      c.write(msg);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    // A visit with ?token= sets the cookie and drops the token from the address bar.
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token') && this.guard.needsToken) {
      const t = url.searchParams.get('token') ?? '';
      if (!this.guard.matches(t)) return this.fail(res, 401, 'wrong token\n');
      res.writeHead(303, { location: '/', 'set-cookie': `${COOKIE}=${encodeURIComponent(t)}; HttpOnly; SameSite=Strict; Path=/`, ...SECURITY_HEADERS });
      res.end();
      return;
    }
    const no = this.guard.refuse(req);
    if (no) return this.fail(res, no.status, no.message);
    const asset = req.method === 'GET' || req.method === 'HEAD' ? this.assets.get(url.pathname === '/' ? '/index.html' : url.pathname) : undefined;
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /api/state': return this.json(res, 200, this.snapshot());
      case 'GET /api/events': return this.events(req, res);
      case 'GET /api/history': return this.json(res, 200, { env: url.searchParams.get('env'), rows: this.o.live.history(url.searchParams.get('env') ?? '') });
      case 'GET /api/logs': return this.logs(req, res, url);
      case 'POST /api/actions': return this.action(req, res);
      default: return this.fail(res, 404, `not found: ${req.method} ${url.pathname}\n`);
    }
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', ...SECURITY_HEADERS });
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    for (const env of this.o.live.envNames()) res.write(`event: history\ndata: ${JSON.stringify({ env, rows: this.o.live.history(env) })}\n\n`);
    this.clients.add(res);
    this.o.live.setWatchers(this.clients.size);
    const gone = () => { this.clients.delete(res); this.o.live.setWatchers(this.clients.size); };
    req.on('close', gone);
    res.on('error', gone);
  }

  private async logs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const env = url.searchParams.get('env') ?? '';
    const host = url.searchParams.get('host') ?? '';
    const app = url.searchParams.get('app') || this.o.app;
    const lines = Math.min(1000, Math.max(1, Number(url.searchParams.get('lines')) || 100));
    const conn = this.o.live.connection(env, host);
    if (!conn) return this.fail(res, 404, `no host ${host} in environment ${env} of this ui\n`);
    if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(app)) return this.fail(res, 400, 'app must be an app name\n');
    if (this.logStreams >= MAX_LOG_STREAMS) return this.fail(res, 429, `at most ${MAX_LOG_STREAMS} logs are followed at once; close one\n`);
    this.logStreams++;
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...SECURITY_HEADERS });
    res.write('retry: 3000\n\n');
    try {
      await conn.logs(app, lines, true, (line) => res.write(`event: line\ndata: ${JSON.stringify(line)}\n\n`), abort.signal);
      res.write('event: end\ndata: "the log stream ended"\n\n');
    } catch (err) {
      res.write(`event: failed\ndata: ${JSON.stringify(String((err as Error)?.message ?? err))}\n\n`);
    } finally {
      this.logStreams--;
      res.end();
    }
  }

  private async action(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.o.allowActions) return this.fail(res, 403, 'actions are off: start slipway ui with --allow-actions\n');
    const bad = this.guard.refuseAction(req);
    if (bad) return this.fail(res, 403, `${bad}\n`);
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 16_384));
    } catch (err) {
      return this.fail(res, 400, `the body must be JSON: ${String((err as Error).message)}\n`);
    }
    const hostsOf = (env: string) => this.o.live.snapshot().envs.find((e) => e.name === env)?.hosts.map((h) => h.host);
    const parsed = actionArgs(body, hostsOf);
    if ('error' in parsed) return this.fail(res, 400, `${parsed.error}\n`);
    const env = parsed.args[1];
    if (this.busy.has(env)) return this.fail(res, 409, `an action on ${env} started from this ui is still running\n`);
    this.busy.add(env);
    const started = { at: new Date().toISOString(), env, host: '', app: this.o.app, kind: 'action', version: '', text: `started from the ui: slipway ${parsed.args.join(' ')}` };
    this.o.live.emit('happening', started);
    try {
      const result = await runAction(this.o.configFile, parsed.args);
      // Each host's batch and activation steps with the agents' times, from the CLI's --json answer.
      for (const h of stepLines(result.result, env, this.o.app, new Date().toISOString())) this.o.live.emit('happening', h);
      this.o.live.emit('happening', { ...started, at: new Date().toISOString(), kind: result.ok ? 'action_done' : 'action_failed', text: `slipway ${parsed.args.join(' ')}: ${result.ok ? 'done' : `failed (exit ${result.exit_code})`}`, output: result.ok ? undefined : result.stderr });
      this.json(res, 200, result);
    } finally {
      this.busy.delete(env);
    }
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
    res.end(text);
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) { res.end(); return; }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    res.end(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > limit) { reject(new Error(`larger than ${limit} bytes`)); req.destroy(); }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
