// A load generator for swap tests and the swap benchmark: paced HTTP clients
// that record the outcome of every request.
//
// Two kinds of client, each sending one request at a time on its own schedule
// (request k is due at start + k × intervalMs; a slow answer delays the next
// one, the schedule then catches up without bursts beyond one request):
//   keepalive  one connection kept open across requests (http.Agent keepAlive,
//              maxSockets 1). A request on a REUSED idle connection that fails
//              with ECONNRESET / "socket hang up" before any response byte is
//              retried once, on a new connection: HTTP allows this for
//              idempotent requests (RFC 9110 §9.2.2), browsers and most clients
//              do it. Retries are counted; a request that fails again counts
//              as failed.
//   fresh      a new TCP connection per request (no agent). It asks for
//              keep-alive and closes the socket itself after the answer, so a
//              server that is draining is seen answering "Connection: close".
//
// The load is bounded: it stops by itself after maxDurationMs or maxRequests.
import http from 'node:http';

export interface LoadOptions {
  host: string;
  port: number;
  /** Path of every request; its answer should be JSON with `version` and `pid` (hello's /version). */
  path?: string;
  keepAliveClients?: number;
  freshClients?: number;
  /** Time between the scheduled starts of one client's requests. */
  intervalMs?: number;
  /** Per-request timeout: a request without a complete answer by then has failed. */
  timeoutMs?: number;
  /** Hard bounds: the load stops by itself after this long / this many requests. */
  maxDurationMs?: number;
  maxRequests?: number;
}

export type ClientKind = 'keepalive' | 'fresh';

export interface Outcome {
  client: number;
  kind: ClientKind;
  /** performance.now() when the request (its first attempt) started and when it ended. */
  start: number;
  end: number;
  ok: boolean;
  status?: number;
  version?: string;
  pid?: number;
  /** The server answered "Connection: close" (hello does while it drains). */
  connectionClose?: boolean;
  /** The first attempt failed on a reused idle connection and was retried once. */
  retried: boolean;
  retryReason?: string;
  error?: string;
}

export interface LoadSummary {
  requests: number;
  ok: number;
  failed: number;
  retried: number;
  durationMs: number;
  /** Requests per second actually achieved. */
  rate: number;
  failures: Outcome[];
  retries: Outcome[];
}

interface Attempt {
  ok: boolean;
  status?: number;
  version?: string;
  pid?: number;
  connectionClose?: boolean;
  error?: string;
  /** Failed before any response byte on a socket that had served a request before. */
  retryable?: boolean;
}

export class Load {
  readonly outcomes: Outcome[] = [];
  private running = false;
  private started = 0;
  private stoppedAt = 0;
  private clients: Promise<void>[] = [];
  private agents: http.Agent[] = [];
  private boundTimer?: NodeJS.Timeout;
  private readonly o: Required<LoadOptions>;
  private listeners: ((o: Outcome) => void)[] = [];

  constructor(opts: LoadOptions) {
    this.o = {
      path: '/version', keepAliveClients: 4, freshClients: 2, intervalMs: 20, timeoutMs: 10_000,
      maxDurationMs: 180_000, maxRequests: 1_000_000, ...opts,
    };
  }

  start(): this {
    this.running = true;
    this.started = performance.now();
    this.boundTimer = setTimeout(() => { this.running = false; }, this.o.maxDurationMs);
    this.boundTimer.unref();
    let id = 0;
    for (let i = 0; i < this.o.keepAliveClients; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      this.clients.push(this.client(id++, 'keepalive', agent));
    }
    for (let i = 0; i < this.o.freshClients; i++) this.clients.push(this.client(id++, 'fresh'));
    return this;
  }

  /** Calls fn with every outcome as it is recorded. */
  onOutcome(fn: (o: Outcome) => void): void {
    this.listeners.push(fn);
  }

  get clientCount(): number {
    return this.o.keepAliveClients + this.o.freshClients;
  }

  /** Stops sending, waits for the requests in flight, and summarises. */
  async stop(): Promise<LoadSummary> {
    this.running = false;
    clearTimeout(this.boundTimer);
    await Promise.all(this.clients);
    this.stoppedAt = performance.now();
    for (const a of this.agents) a.destroy();
    return this.summary();
  }

  summary(): LoadSummary {
    const end = this.stoppedAt || performance.now();
    const failures = this.outcomes.filter((o) => !o.ok);
    const retries = this.outcomes.filter((o) => o.retried);
    const durationMs = end - this.started;
    return {
      requests: this.outcomes.length, ok: this.outcomes.length - failures.length, failed: failures.length, retried: retries.length,
      durationMs, rate: this.outcomes.length / (durationMs / 1000), failures, retries,
    };
  }

  private async client(id: number, kind: ClientKind, agent?: http.Agent): Promise<void> {
    // Spread the clients' schedules over one interval.
    const offset = (this.o.intervalMs * id) / this.clientCount;
    let due = performance.now() + offset;
    for (let k = 0; this.running; k++) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.running || this.outcomes.length >= this.o.maxRequests) break;
      const start = performance.now();
      let a = await this.attempt(kind, agent);
      let retried = false;
      let retryReason: string | undefined;
      if (!a.ok && a.retryable) {
        retried = true;
        retryReason = a.error;
        a = await this.attempt(kind, agent);
      }
      const out: Outcome = { client: id, kind, start, end: performance.now(), retried, retryReason, ...a };
      delete (out as { retryable?: boolean }).retryable;
      this.outcomes.push(out);
      for (const l of this.listeners) l(out);
      // Fixed rate, but never more than one request late: no bursts to catch up.
      due = Math.max(due + this.o.intervalMs, performance.now() - this.o.intervalMs);
    }
  }

  private attempt(kind: ClientKind, agent?: http.Agent): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      let gotResponse = false;
      const done = (a: Attempt) => {
        if (settled) return;
        settled = true;
        resolve(a);
      };
      const req = http.request({
        host: this.o.host, port: this.o.port, path: this.o.path, method: 'GET',
        agent: kind === 'keepalive' ? agent : false,
        headers: { connection: 'keep-alive', 'user-agent': 'slipway-load' },
      }, (res) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', (err) => done({ ok: false, status: res.statusCode, error: `response: ${err.message}` }));
        res.on('aborted', () => done({ ok: false, status: res.statusCode, error: 'response aborted' }));
        res.on('end', () => {
          if (kind === 'fresh') res.socket?.destroy();
          const status = res.statusCode ?? 0;
          const connectionClose = /close/i.test(String(res.headers.connection ?? ''));
          let version: string | undefined;
          let pid: number | undefined;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString()) as { version?: string; pid?: number };
            version = body.version;
            pid = body.pid;
          } catch { /* not JSON: left undefined */ }
          done({ ok: status >= 200 && status < 300, status, version, pid, connectionClose, error: status >= 200 && status < 300 ? undefined : `status ${status}` });
        });
      });
      req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error(`no complete answer within ${this.o.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const resetBeforeResponse = !gotResponse && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
        done({ ok: false, error: `${err.code ?? ''} ${err.message}`.trim(), retryable: kind === 'keepalive' && req.reusedSocket && resetBeforeResponse });
      });
      req.end();
    });
  }
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}
