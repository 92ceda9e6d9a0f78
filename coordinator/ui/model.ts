// What `slipway ui` shows of one host: an agent's Status answer (or its
// failure) turned into a plain, JSON-ready view, and the decisions made on
// views (did anything change, what happened between two views). Pure: no
// I/O, no clock (the caller passes the time).
import type { StatusResponse__Output } from '../../proto/gen/slipway/v1/StatusResponse.js';
import type { AppStatus__Output } from '../../proto/gen/slipway/v1/AppStatus.js';
import type { DeployEvent__Output } from '../../proto/gen/slipway/v1/DeployEvent.js';

export interface CellView {
  app: string;
  state: string;
  reason: string;
  since: string;
  version: string;
  desired_version: string;
  pid: number;
  started_at: string;
  restarts: number;
  cpu_percent: number | null;
  rss: number | null;
  nofile: number | null;
  last_activation: { version: string; at: string; result: string; reason: string; message: string } | null;
  /** The app's last output lines, fetched when it crashed or an activation failed. */
  output?: string[];
}

export interface HostView {
  host: string;
  /** reachable: answered; unreachable: no answer within the deadline (or refused); error: answered with something other than a status. */
  reach: 'reachable' | 'unreachable' | 'error' | 'waiting';
  error: string;
  polled_at: string;
  rtt_ms: number | null;
  agent: { version: string; hostname: string; started_at: string; open_files_limit: number | null; warnings: string[] } | null;
  system: { cpu_percent: number; load1: number; memory_used_percent: number | null; disk_free: number; disk_used_percent: number | null } | null;
  /** Whether the agent's Watch stream is open: activation steps show as they happen (absent or false: polled only). */
  watching?: boolean;
  /** By app name; on an unreachable host, the last cells seen (the page shows them as not current). */
  apps: Record<string, CellView>;
}

const num = (v: unknown): number => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const pct = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : null);

export function waitingView(host: string): HostView {
  return { host, reach: 'waiting', error: '', polled_at: '', rtt_ms: null, agent: null, system: null, apps: {} };
}

function cellView(a: AppStatus__Output): CellView {
  const la = a.last_activation;
  return {
    app: str(a.app), state: str(a.state) || 'unknown', reason: str(a.state_reason), since: str(a.state_since),
    version: str(a.version), desired_version: str(a.desired_version), pid: num(a.pid), started_at: str(a.started_at),
    restarts: num(a.restarts),
    cpu_percent: a.pid ? Math.round(num(a.cpu_percent) * 10) / 10 : null,
    rss: a.pid ? num(a.memory_rss) : null,
    nofile: num(a.open_files_limit) || null,
    last_activation: la ? { version: str(la.version), at: str(la.at), result: str(la.result), reason: str(la.reason), message: str(la.message) } : null,
  };
}

/** A host's view from its Status answer. Every field is checked: an agent that answers nonsense gives blanks, never a throw. */
export function reachableView(host: string, res: StatusResponse__Output, rttMs: number, at: Date): HostView {
  const apps: Record<string, CellView> = {};
  for (const a of Array.isArray(res?.apps) ? res.apps : []) {
    if (a && typeof a.app === 'string' && a.app) apps[a.app] = cellView(a);
  }
  const ag = res?.agent;
  const h = res?.host;
  const memTotal = num(h?.memory_total);
  const diskTotal = num(h?.disk_total);
  return {
    host, reach: 'reachable', error: '', polled_at: at.toISOString(), rtt_ms: Math.round(rttMs * 10) / 10,
    agent: ag ? {
      version: str(ag.version), hostname: str(ag.hostname), started_at: str(ag.started_at),
      open_files_limit: num(ag.open_files_limit) || null, warnings: Array.isArray(ag.warnings) ? ag.warnings.map(str) : [],
    } : null,
    system: h ? {
      cpu_percent: Math.round(num(h.cpu_percent) * 10) / 10, load1: Math.round(num(h.load1) * 100) / 100,
      memory_used_percent: pct(memTotal - num(h.memory_available), memTotal),
      disk_free: num(h.disk_free), disk_used_percent: pct(diskTotal - num(h.disk_free), diskTotal),
    } : null,
    apps,
  };
}

/** A host that did not answer (or answered with an error): the last cells stay, marked by `reach`. */
export function failedView(prev: HostView, reach: 'unreachable' | 'error', message: string, at: Date): HostView {
  const apps: Record<string, CellView> = {};
  for (const [k, c] of Object.entries(prev.apps)) apps[k] = { ...c, output: undefined };
  return { ...prev, reach, error: message, polled_at: at.toISOString(), rtt_ms: null, apps };
}

/** What a person would see change (the poll time and round trip alone are not a change worth sending at once). */
export function visibleKey(v: HostView): string {
  return JSON.stringify([v.reach, v.error, v.agent, v.system, v.apps, v.watching ?? false]);
}

/** One line of the live activity: what changed on a host between two polls. */
export interface Happening {
  at: string;
  env: string;
  host: string;
  app: string;
  /** activating | done | failed | crashed | crashloop | stopped | started | unreachable | back | auto_rolled_back | state | step */
  kind: string;
  version: string;
  text: string;
  output?: string[];
}

/** What happened between two views of one host, in words (the agent's times where it gives them). */
export function happenings(env: string, prev: HostView, next: HostView, at: Date): Happening[] {
  const out: Happening[] = [];
  const now = at.toISOString();
  const base = { env, host: next.host };
  if (prev.reach !== 'waiting' && prev.reach !== next.reach) {
    if (next.reach === 'reachable') out.push({ ...base, at: now, app: '', kind: 'back', version: '', text: 'answers again' });
    else out.push({ ...base, at: now, app: '', kind: 'unreachable', version: '', text: next.error || next.reach });
  }
  if (prev.reach !== 'reachable' || next.reach !== 'reachable') return out;
  for (const [app, c] of Object.entries(next.apps)) {
    const p = prev.apps[app];
    if (!p) continue;
    const when = c.since || now;
    const la = c.last_activation;
    const newActivation = la && (!p.last_activation || p.last_activation.at !== la.at);
    if (c.state === 'activating' && p.state !== 'activating') {
      out.push({ ...base, at: when, app, kind: 'activating', version: c.desired_version || c.version, text: `activating ${c.reason || ''}`.trim() });
    }
    if (newActivation && la) {
      const kind = la.result === 'done' ? 'done' : 'failed';
      const what = la.reason === 'rollback' ? 'rolled back to' : la.reason === 'auto_rollback' ? 'automatically rolled back to' : 'now runs';
      out.push({ ...base, at: la.at || when, app, kind: la.reason === 'auto_rollback' ? 'auto_rolled_back' : kind, version: la.version, text: kind === 'done' ? `${what} ${la.version}${p.version && p.version !== la.version ? ` (was ${p.version})` : ''}` : `activation of ${la.version} failed: ${la.message}` });
    } else if (shownVersion(c) !== shownVersion(p) && c.state !== 'activating') {
      out.push({ ...base, at: when, app, kind: 'done', version: shownVersion(c), text: `now runs ${shownVersion(c) || 'nothing'}${shownVersion(p) ? ` (was ${shownVersion(p)})` : ''}` });
    }
    if (c.state !== p.state && c.state !== 'activating' && p.state !== 'activating') {
      const kind = c.state === 'backoff' ? 'crashed' : c.state === 'crashloop' ? 'crashloop' : c.state === 'stopped' ? 'stopped' : c.state === 'running' ? 'started' : 'state';
      out.push({ ...base, at: when, app, kind, version: c.version, text: `${c.state}${c.reason ? `: ${c.reason}` : ''}` });
    } else if (c.restarts > p.restarts && c.state === 'running' && p.state === 'running') {
      out.push({ ...base, at: when, app, kind: 'crashed', version: c.version, text: `restarted after a crash (${c.restarts} restarts)` });
    }
  }
  return out;
}

/** The version a cell stands for: the running one, else (crashed, stopped, starting) the one the host means to run. */
export function shownVersion(c: CellView): string {
  return c.version || c.desired_version;
}

/** Whether the app's last output is worth fetching for this cell (it crashed, or an activation failed). */
export function wantsOutput(prev: CellView | undefined, c: CellView): boolean {
  const bad = c.state === 'backoff' || c.state === 'crashloop' || (c.state === 'stopped' && /fail/.test(c.reason));
  const failed = c.last_activation?.result === 'failed' && c.last_activation.at !== prev?.last_activation?.at;
  return (bad && (!prev || prev.state !== c.state || prev.restarts !== c.restarts)) || failed;
}

/**
 * One activation event from the agent's Watch stream as a line of the
 * activity: kind `step` (`failed` on a failure, with the app's last output),
 * the agent's time (now when it gives none), the event word first. Undefined for a message without an app or event.
 */
export function stepHappening(env: string, host: string, e: Partial<DeployEvent__Output>, now: Date): Happening | undefined {
  const app = str(e?.app);
  const event = str(e?.event);
  if (!app || !event) return undefined;
  const secs = num(e.elapsed_s);
  const output = Array.isArray(e.output) ? e.output.map(str) : [];
  const text = `${event}${secs > 0 ? ` after ${secs.toFixed(1)} s` : ''}${e.message ? `: ${str(e.message)}` : ''}`;
  return { at: str(e.at) || now.toISOString(), env, host, app, kind: event === 'failed' ? 'failed' : 'step', version: str(e.version), text, ...(output.length ? { output } : {}) };
}
