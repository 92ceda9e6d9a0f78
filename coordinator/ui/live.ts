// The live state behind `slipway ui`: one poller per host of every
// environment shown, each holding one gRPC channel to its agent and asking
// Status once per interval while a page is open (every 10 s while none is;
// never two calls at once: the next is asked an interval after the last
// answer), History after anything changed and every
// HISTORY_EVERY_MS, and an app's last output lines when it crashed. Changes
// are emitted as events; the HTTP side (server.ts) sends them to browsers.
// Beside the poller, one Watch stream per host brings each activation event
// as it happens (whoever started it): a line of the activity each, and a poll
// soon after an activation ends. A stream that ends is called again after a
// backoff; an older agent without Watch (UNIMPLEMENTED) is polled alone.
import type { MergedEntry } from '../commands/history.js';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { AgentConnection, HostError } from '../client.js';
import { failedView, happenings, reachableView, stepHappening, visibleKey, waitingView, wantsOutput, type Happening, type HostView } from './model.js';
import type { TlsSettings } from '../../common/credentials.js';

export interface EnvSource {
  name: string;
  hosts: string[];
  tls: TlsSettings;
  deadlineMs: number;
}

/** A history entry as `slipway history` merges them, with the app it is about. */
export interface HistoryRow extends MergedEntry {
  app: string;
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
/** Between a Watch stream's end and the next call: doubling from the first to the last. */
const WATCH_BACKOFF_MS = [1_000, 30_000];

class HostPoller {
  view: HostView;
  history: HistoryRow[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private polling = false;
  private lastHistory = 0;
  private historyDue = true;
  private readonly watchStop = new AbortController();
  private watchTimer?: NodeJS.Timeout;
  private watching = false;

  constructor(readonly env: string, readonly host: string, readonly conn: AgentConnection, private readonly live: LiveFleet, readonly key: string) {
    this.view = waitingView(host);
  }

  start(delayMs: number): void {
    this.timer = setTimeout(() => void this.poll(), delayMs);
    void this.watch(WATCH_BACKOFF_MS[0]);
  }

  /** Follows the agent's Watch stream until stopped; a lost stream is called again after backoffMs (doubling while it fails at once). */
  private async watch(backoffMs: number): Promise<void> {
    const t0 = Date.now();
    try {
      await this.conn.watch('', (e) => this.step(e), this.watchStop.signal, () => this.setWatching(true));
    } catch (err) {
      if (err instanceof HostError && err.status === grpc.status.UNIMPLEMENTED) return; // an older agent: polling alone
    } finally {
      this.setWatching(false);
    }
    if (this.stopped) return;
    // A stream that lasted is called again soon; one that fails at once waits longer each time.
    const wait = Date.now() - t0 > WATCH_BACKOFF_MS[1] ? WATCH_BACKOFF_MS[0] : backoffMs;
    this.watchTimer = setTimeout(() => void this.watch(Math.min(wait * 2, WATCH_BACKOFF_MS[1])), wait);
  }

  /** An open stream shows at once; a closed one with the next poll (a dead agent's row is then redrawn once, as unreachable). */
  private setWatching(on: boolean): void {
    if (this.watching === on || this.stopped) return;
    this.watching = on;
    if (!on) return;
    this.view = { ...this.view, watching: on };
    this.live.emit('host', this.env, this.view);
  }

  private step(e: Parameters<typeof stepHappening>[2]): void {
    if (this.stopped) return;
    const h = stepHappening(this.env, this.host, e, new Date());
    if (!h) return;
    this.live.emit('happening', h);
    // The activation ended: the cells change now, not an interval later.
    if (['done', 'failed', 'rolled_back', 'auto_rolled_back'].includes(String(e.event))) this.soon(0);
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
    clearTimeout(this.watchTimer);
    this.watchStop.abort();
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
    next.watching = this.watching;
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
