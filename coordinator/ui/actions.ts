// Actions from the page (only with `slipway ui --allow-actions`): rollback,
// restart, lock and unlock run as the CLI itself, in a child process, with
// the same config file and --json: the same code as from a terminal, the
// deploy locks and the agents' history included. The request is checked
// here first (the environment and host must be ones the ui shows), and
// every value goes to the child as an argument, never through a shell.
import { spawn } from 'node:child_process';
import type { Happening } from './model.js';

export interface ActionRequest {
  action: string;
  env: string;
  host?: string;
  reason?: string;
}

export interface ActionResult {
  ok: boolean;
  exit_code: number;
  /** The CLI's --json answer (docs/json-output.md), when it printed one. */
  result: unknown;
  /** The last lines the CLI wrote to stderr. */
  stderr: string[];
  argv: string[];
}

const ACTIONS = ['rollback', 'restart', 'lock', 'unlock'] as const;

/** The CLI's arguments for an action, or what is wrong with the request. */
export function actionArgs(req: unknown, hostsOf: (env: string) => string[] | undefined): { args: string[] } | { error: string } {
  const r = req as Partial<ActionRequest> | null;
  if (!r || typeof r !== 'object') return { error: 'the body must be a JSON object: { action, env, host?, reason? }' };
  if (typeof r.action !== 'string' || !(ACTIONS as readonly string[]).includes(r.action)) return { error: `action must be one of ${ACTIONS.join(', ')}` };
  const hosts = typeof r.env === 'string' ? hostsOf(r.env) : undefined;
  if (!hosts) return { error: `env must be an environment this ui shows, not ${JSON.stringify(r.env)}` };
  const args = [r.action, r.env as string];
  if (r.host !== undefined && r.host !== '') {
    if (r.action === 'rollback') return { error: 'a rollback is for the whole environment (it moves batch by batch); leave host out' };
    if (typeof r.host !== 'string' || !hosts.includes(r.host)) return { error: `host must be one of the environment's hosts, not ${JSON.stringify(r.host)}` };
    args.push(`--host=${r.host}`);
  }
  if (r.action === 'lock') {
    const reason = typeof r.reason === 'string' ? r.reason.trim() : '';
    if (!reason || reason.length > 200) return { error: 'a lock needs a reason of 1 to 200 characters' };
    args.push(`--reason=${reason}`);
  }
  return { args };
}

/** How this process's CLI is started again: node, its flags, and the script (the installed launcher, or the sources under tsx). */
function self(): string[] {
  return [...process.execArgv, process.argv[1]];
}

/** Runs `slipway -c CONFIG --json ARGS` and resolves with what it said; never rejects. */
export function runAction(configFile: string, args: string[], timeoutMs = 30 * 60_000): Promise<ActionResult> {
  const argv = ['-c', configFile, '--json', ...args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...self(), ...argv], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { if (out.length < 4 << 20) out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-16_384); });
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    const done = (code: number) => {
      clearTimeout(timer);
      let result: unknown = null;
      try { result = JSON.parse(out); } catch { /* no JSON: the stderr lines say why */ }
      resolve({ ok: code === 0, exit_code: code, result, stderr: err.split('\n').filter(Boolean).slice(-20), argv: ['slipway', ...argv] });
    };
    child.on('error', (e) => { err += String(e); done(-1); });
    child.on('exit', (code) => done(code ?? -1));
  });
}

interface RolloutDoc {
  batches?: unknown;
  hosts?: { host?: unknown; outcome?: unknown; events?: { event?: unknown; at?: unknown; message?: unknown }[]; output?: unknown }[];
}

/** The UTC time of day, to the millisecond, as in common/time.ts ("10:00:00.123Z"): the steps of one activation share a day. */
const clock = (iso: string) => { const m = /T(\d\d:\d\d:\d\d(\.\d+)?)Z?$/.exec(iso); return m ? `${m[1]}Z` : iso; };

/**
 * A rollout's --json answer (deploy, rollback, restart) as activity lines:
 * per host its batch and its activation events with the agent's times
 * (`unpacking 10:00:00.123 → starting … → done …`), and the last output on
 * failure. Anything unexpected in the document is skipped.
 */
export function stepLines(doc: unknown, env: string, app: string, at: string): Happening[] {
  const d = (doc && typeof doc === 'object' ? doc : {}) as RolloutDoc;
  const batches = Array.isArray(d.batches) ? d.batches.filter(Array.isArray) as unknown[][] : [];
  const out: Happening[] = [];
  for (const h of Array.isArray(d.hosts) ? d.hosts : []) {
    if (!h || typeof h.host !== 'string') continue;
    const host = h.host;
    const events = (Array.isArray(h.events) ? h.events : []).filter((e) => e && typeof e.event === 'string');
    if (events.length === 0) continue;
    const batch = batches.findIndex((b) => b.includes(host));
    const steps = events.map((e) => `${String(e.event)} ${clock(String(e.at ?? ''))}`).join(' → ');
    const failed = events.some((e) => e.event === 'failed');
    const output = Array.isArray(h.output) ? h.output.map(String) : [];
    out.push({ at, env, host, app, kind: failed ? 'failed' : 'steps', version: '', text: `${batch >= 0 ? `batch ${batch + 1}: ` : ''}${steps}${typeof h.outcome === 'string' ? ` (${h.outcome})` : ''}`, ...(output.length ? { output } : {}) });
  }
  return out;
}
