// The agent's HTTP endpoint for load balancers, orchestrators and Prometheus:
//   GET /healthz  200 {"status":"ok"} while the agent's event loop answers
//   GET /readyz   200 {"ready":true} when every app that should run is running and ready, else 503 {"ready":false}
//   GET /status   the agent, the host and each app, as JSON (docs/monitoring.md)
//   GET /metrics  Prometheus text format
// Small and dependency-light: node:http, and answers built from memory.
// Binding beyond loopback is an explicit `http:` in the agent's config.
import http from 'node:http';
import https from 'node:https';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readiness, statusReport, type ReportSource } from './report.js';
import type { Logger } from '../../logger.js';

/**
 * Beyond loopback the endpoint serves HTTPS with the
 * agent's certificate (swapped in place when the agent reloads it), and
 * /status and /metrics can require `Authorization: Bearer <token>` (the
 * token from http_token_file; Prometheus sends it with `authorization:
 * { credentials_file: … }`). /healthz and /readyz stay open: they tell
 * nothing but up or down (no version, app names or states; /status has them).
 */
export interface HttpSecurity {
  tls?: { cert: Buffer; key: Buffer };
  token?: string;
}

const PROTECTED = new Set(['/status', '/metrics']);

export class HttpEndpoint {
  private server?: http.Server | https.Server;
  address = '';
  private tokenDigest?: Buffer;

  constructor(private readonly src: ReportSource, private readonly log: Logger, private readonly security: HttpSecurity = {}) {
    this.setToken(security.token);
  }

  get scheme(): 'http' | 'https' {
    return this.security.tls ? 'https' : 'http';
  }

  /** A renewed certificate (the agent's reload): new connections get it. */
  setCertificate(tls: { cert: Buffer; key: Buffer }): void {
    if (this.server instanceof https.Server) this.server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  setToken(token: string | undefined): void {
    const t = token?.trim();
    this.tokenDigest = t ? createHash('sha256').update(t).digest() : undefined;
  }

  private authorised(req: http.IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]).digest(), this.tokenDigest);
  }

  async listen(addr: string): Promise<string> {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(i + 1));
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const tls = this.security.tls;
    const server = tls ? https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, onRequest) : http.createServer(onRequest);
    server.keepAliveTimeout = 65_000; // longer than common scrapers' and load balancers' idle timeouts
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (err) => this.log.error({ err }, 'http endpoint error'));
    this.server = server;
    const a = server.address() as AddressInfo;
    this.address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    return this.address;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, obj: object) => send(status, 'application/json; charset=utf-8', `${JSON.stringify(obj)}\n`);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return json(405, { error: `method ${req.method} not allowed; use GET` });
      }
      const path = (req.url ?? '/').split('?')[0];
      if (PROTECTED.has(path) && !this.authorised(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="slipway-agent"');
        return json(401, { error: `${path} needs Authorization: Bearer <the token in the agent's http_token_file>` });
      }
      switch (path) {
        case '/healthz':
          return json(200, { status: 'ok' });
        case '/readyz': {
          const r = readiness(this.src);
          return json(r.status, r.body);
        }
        case '/status':
          return json(200, statusReport(this.src));
        case '/metrics':
          return send(200, this.src.metrics.contentType, await this.src.metrics.text());
        default:
          return json(404, { error: `no such path ${path}; try /healthz, /readyz, /status or /metrics` });
      }
    } catch (err) {
      this.log.error({ err, url: req.url }, 'http endpoint request failed');
      if (!res.headersSent) json(500, { error: (err as Error).message });
      else res.destroy();
    }
  }
}
