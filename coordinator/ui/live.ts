// The live state behind `slipway ui`: one poller per host of every
// environment shown, each holding one gRPC channel to its agent and asking
// Status once per interval while a page is open (every 10 s while none is;
// never two calls at once: the next is asked an interval after the last
// answer), History after anything changed and every
// HISTORY_EVERY_MS, and an app's last output lines when it crashed. Changes
// are emitted as events; the HTTP side (server.ts) sends them to browsers.
import { EventEmitter } from 'node:events';
import { AgentConnection, HostError } from '../client.js';
import { failedView, happenings, reachableView, visibleKey, waitingView, wantsOutput, type Happening, type HostView } from './model.js';
import type { TlsSettings } from '../../common/credentials.js';

export interface EnvSource {
  name: string;
  hosts: string[];
  tls: TlsSettings;
  deadlineMs: number;
}

export interface HistoryRow {
  host: string;
  at: string;
  app: string;
  action: string;
  who: string;
  from_version: string;
  to_version: string;
  result: string;
  duration_s: number;
  message: string;
}

export interface LiveEvents {
  host: [env: string, view: HostView];
  happening: [h: Happening];
  history: [env: string];
  envs: [];
}

const HISTORY_EVERY_MS = 30_000;
/** Between two Status calls to one agent while no page is open. */
const IDLE_MS = 10_000;
const SPREAD_MS = 500;
const HISTORY_PER_HOST = 50;
const HISTORY_PER_ENV = 500;
const OUTPUT_LINES = 12;

class HostPoller {
  view: HostView;
  history: HistoryRow[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private polling = false;
  private lastHistory = 0;
  private historyDue = true;

  constructor(readonly env: string, readonly host: string, readonly conn: AgentConnection, private readonly live: LiveFleet, readonly key: string) {
    this.view = waitingView(host);
  }

  start(delayMs: number): void {
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  /** Polls within delayMs unless a call is in flight (its answer schedules the next one). */
  soon(delayMs: number): void {
    if (this.stopped || this.polling) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.conn.close();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    this.polling = true;
    const t0 = performance.now();
    let next: HostView;
    try {
      const res = await this.conn.status('');
      next = reachableView(this.host, res, performance.now() - t0, new Date());
    } catch (err) {
      const e = err instanceof HostError ? err : undefined;
      next = failedView(this.view, e?.unreachable ? 'unreachable' : 'error', e?.message ?? String(err), new Date());
    }
    if (this.stopped) return;
    try {
      await this.apply(next);
    } catch (err) {
      // A view that cannot be made must not end the poller (nothing an agent sends may stop the ui).
      this.live.emit('happening', { at: new Date().toISOString(), env: this.env, host: this.host, app: '', kind: 'error', version: '', text: `slipway ui: ${String(err)}` });
    }
    this.polling = false;
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), this.live.currentIntervalMs());
  }

  private async apply(next: HostView): Promise<void> {
    const prev = this.view;
    if (next.reach === 'reachable') {
      for (const [app, c] of Object.entries(next.apps)) {
        if (wantsOutput(prev.apps[app], c)) c.output = await this.output(app);
        else if (prev.apps[app]?.output && c.state === prev.apps[app].state && c.restarts === prev.apps[app].restarts) c.output = prev.apps[app].output;
      }
    }
    const found = happenings(this.env, prev, next, new Date());
    this.view = next;
    if (visibleKey(prev) !== visibleKey(next)) this.live.emit('host', this.env, next);
    for (const h of found) {
      const cell = h.app ? next.apps[h.app] : undefined;
      if (cell?.output && (h.kind === 'crashed' || h.kind === 'crashloop' || h.kind === 'failed' || h.kind === 'auto_rolled_back')) h.output = cell.output;
      this.live.emit('happening', h);
    }
    if (found.length > 0) this.historyDue = true;
    if (next.reach === 'reachable' && (this.historyDue || Date.now() - this.lastHistory > HISTORY_EVERY_MS)) await this.fetchHistory();
  }

  private async output(app: string): Promise<string[]> {
    const lines: string[] = [];
    try {
      await this.conn.logs(app, OUTPUT_LINES, false, (l) => lines.push(l));
    } catch (err) {
      lines.push(`(the log could not be read: ${String((err as Error).message ?? err)})`);
    }
    return lines.slice(-OUTPUT_LINES);
  }

  private async fetchHistory(): Promise<void> {
    this.historyDue = false;
    this.lastHistory = Date.now();
    try {
      const entries = await this.conn.history('', HISTORY_PER_HOST);
      const rows = entries.map((e) => ({
        host: this.host, at: String(e.at ?? ''), app: String(e.app ?? ''), action: String(e.action ?? ''), who: String(e.who ?? ''),
        from_version: String(e.from_version ?? ''), to_version: String(e.to_version ?? ''), result: String(e.result ?? ''),
        duration_s: Number(e.duration_s) || 0, message: String(e.message ?? ''),
      }));
      if (JSON.stringify(rows) !== JSON.stringify(this.history)) {
        this.history = rows;
        this.live.emit('history', this.env);
      }
    } catch {
      this.historyDue = true; // the next answer tries again
    }
  }
}

export class LiveFleet extends EventEmitter<LiveEvents> {
  private envs: EnvSource[] = [];
  private readonly pollers = new Map<string, HostPoller>();
  private watchers = 0;

  /** intervalMs while a page watches; idleMs (at least intervalMs) while none does. */
  constructor(readonly intervalMs: number, readonly idleMs = Math.max(intervalMs, IDLE_MS)) {
    super();
  }

  currentIntervalMs(): number {
    return this.watchers > 0 ? this.intervalMs : this.idleMs;
  }

  /** How many pages watch. The first one makes every host be asked at once (spread over SPREAD_MS), then every intervalMs. */
  setWatchers(n: number): void {
    const first = this.watchers === 0 && n > 0;
    this.watchers = n;
    if (!first) return;
    let i = 0;
    const all = [...this.pollers.values()];
    for (const p of all) p.soon(Math.floor((i++ * SPREAD_MS) / all.length));
  }

  /** Sets the environments shown: pollers of hosts that stay keep running (and their channel); new hosts start; gone hosts stop. */
  setEnvs(envs: EnvSource[]): void {
    const wanted = new Map<string, { env: EnvSource; host: string }>();
    for (const env of envs) for (const host of env.hosts) wanted.set(pollerKey(env, host), { env, host });
    for (const [key, p] of this.pollers) {
      if (!wanted.has(key)) { p.stop(); this.pollers.delete(key); }
    }
    let i = 0;
    const fresh = [...wanted].filter(([key]) => !this.pollers.has(key));
    for (const [key, { env, host }] of fresh) {
      const p = new HostPoller(env.name, host, new AgentConnection(host, env.tls, env.deadlineMs), this, key);
      this.pollers.set(key, p);
      // Spread the first polls over one interval: 200 hosts are not all asked in the same millisecond.
      p.start(fresh.length > 1 ? Math.floor((i++ * SPREAD_MS) / fresh.length) : 0);
    }
    this.envs = envs;
    this.emit('envs');
  }

  private hostPollers(env: EnvSource): HostPoller[] {
    return env.hosts.flatMap((h) => this.pollers.get(pollerKey(env, h)) ?? []);
  }

  /** Everything a page needs to draw itself. */
  snapshot(): { envs: { name: string; hosts: HostView[] }[] } {
    return { envs: this.envs.map((e) => ({ name: e.name, hosts: this.hostPollers(e).map((p) => p.view) })) };
  }

  /** The environment's history, newest first, every host's merged. */
  history(envName: string): HistoryRow[] {
    const env = this.envs.find((e) => e.name === envName);
    if (!env) return [];
    const rows = this.hostPollers(env).flatMap((p) => p.history);
    rows.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.host.localeCompare(b.host)));
    return rows.slice(0, HISTORY_PER_ENV);
  }

  /** The connection to a host of an environment shown (for its log). */
  connection(envName: string, host: string): AgentConnection | undefined {
    const env = this.envs.find((e) => e.name === envName);
    return env?.hosts.includes(host) ? this.pollers.get(pollerKey(env, host))?.conn : undefined;
  }

  envNames(): string[] {
    return this.envs.map((e) => e.name);
  }

  close(): void {
    for (const p of this.pollers.values()) p.stop();
    this.pollers.clear();
  }
}

/** A host's poller is kept across config reloads while its environment, address and credentials stay the same. */
function pollerKey(env: EnvSource, host: string): string {
  return JSON.stringify([env.name, host, env.tls, env.deadlineMs]);
}
