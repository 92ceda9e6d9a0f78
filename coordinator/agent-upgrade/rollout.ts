// `slipway agent upgrade` and `slipway agent rollback`, carried out: hosts
// batch by batch (plans.ts's planBatches, at most `concurrency` at a time in
// a batch), each one: upload the build where it is missing (the same upload,
// dedupe, disk check and signature checks as a release), Activate the
// reserved app (the agent switches its `current` and restarts into the new
// build), then wait for the host's history to say how it came back: the new
// build confirmed healthy, or the launcher switched back by itself. A host
// that is not upgraded stops the rollout after its batch (it has put itself
// back already); Ctrl-C stops after the batch. Reports by events; prints nothing.
import { planBatches, type Batch } from '../plans.js';
import { mapBounded } from './../rollout/bounded.js';
import { AGENT_APP, AGENT_CONFIRM_DEADLINE_S, AGENT_HISTORY, AGENT_ROLLBACK_REASON } from '../../common/agent-build.js';
import type { AgentRelease } from './build.js';
import type { AgentConnection } from '../client.js';
import type { HistoryEntry__Output } from '../../proto/gen/slipway/v1/HistoryEntry.js';

export type AgentHostOutcome = 'upgraded' | 'unchanged' | 'rolled_back' | 'failed' | 'unknown' | 'not_reached';

export interface AgentHostResult {
  host: string;
  ok: boolean;
  outcome: AgentHostOutcome;
  /** The agent version before, and after (as the host reports it); '' when not known. */
  from: string;
  to: string;
  message: string;
  error?: { code: string; message: string };
  seconds: number;
}

export type AgentRolloutEvent =
  | { type: 'batch'; index: number; count: number; hosts: string[] }
  | { type: 'step'; host: string; step: 'uploading' | 'uploaded' | 'already_stored' | 'switching' | 'waiting'; message?: string }
  | { type: 'result'; result: AgentHostResult }
  | { type: 'interrupted' };

export interface AgentRolloutOptions {
  /** The build to go to; undefined: back to each host's previous build (rollback). */
  release?: AgentRelease;
  batch: Batch;
  pauseS: number;
  requestedBy: string;
  /** How long each host may take to switch (the Activate call). */
  timeoutMs: number;
  /** How long after the switch the coordinator waits for the host's verdict (beyond the launcher's deadline: a restart takes a moment). */
  confirmWaitMs?: number;
  emit: (e: AgentRolloutEvent) => void;
  interrupted?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export type AgentLink = Pick<AgentConnection, 'host' | 'status' | 'listReleases' | 'upload' | 'activate' | 'history' | 'explain'>;

const isSwitch = (e: Pick<HistoryEntry__Output, 'action'>) => e.action === AGENT_HISTORY.switched || e.action === AGENT_HISTORY.rollback;

/** The time (the host's own clock, as it wrote it) of the host's newest switch entry; '' when none. */
export function lastSwitchAt(entries: readonly Pick<HistoryEntry__Output, 'action' | 'at'>[]): string {
  return entries.filter(isSwitch).map((e) => e.at).sort().pop() ?? '';
}

/**
 * What a host's history says of the switch this rollout made (the newest
 * switch entry later than `before`, lastSwitchAt before the switch): the
 * entry after it that confirms it or says the launcher switched back. Pure.
 */
export function verdictOf(entries: readonly Pick<HistoryEntry__Output, 'at' | 'action' | 'message' | 'to_version'>[], before: string):
  { kind: 'confirmed'; version: string; message: string } | { kind: 'rolled_back'; message: string } | { kind: 'pending' } {
  let last = -1;
  entries.forEach((e, i) => { if (isSwitch(e) && e.at > before) last = i; });
  if (last < 0) return { kind: 'pending' };
  for (const e of entries.slice(last + 1)) {
    if (e.action === AGENT_HISTORY.confirmed) return { kind: 'confirmed', version: e.to_version, message: e.message };
    if (e.action === AGENT_HISTORY.selfRollback) return { kind: 'rolled_back', message: e.message };
  }
  return { kind: 'pending' };
}

/** How many history entries are read per question: enough for the switch and its verdict. */
const HISTORY_LIMIT = 50;

export async function upgradeHost(link: AgentLink, opts: AgentRolloutOptions): Promise<AgentHostResult> {
  const { emit } = opts;
  const host = link.host;
  const now = opts.now ?? (() => performance.now());
  const pause = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = now();
  const result = (outcome: AgentHostOutcome, from: string, to: string, message: string, error?: { code: string; message: string }): AgentHostResult =>
    ({ host, ok: outcome === 'upgraded' || outcome === 'unchanged', outcome, from, to, message, ...(error ? { error } : {}), seconds: Math.round((now() - t0) / 100) / 10 });
  let from = '';
  let switched = false;
  try {
    from = (await link.status()).agent?.version ?? '';
    const before = lastSwitchAt(await link.history(AGENT_APP, HISTORY_LIMIT));
    const rel = opts.release;
    if (rel) {
      const present = await link.listReleases(AGENT_APP);
      if (present.some((r) => r.sha256 === rel.sha256 && (r.stored || r.unpacked))) emit({ type: 'step', host, step: 'already_stored' });
      else if (!rel.file) {
        return result('failed', from, from, `this host no longer keeps the agent build ${rel.version} (${rel.sha256.slice(0, 12)}) and there is no local copy to send; give the build's file (--to)`, { code: 'SLIPWAY_ERR_AGENT_BUILD_NOT_FOUND', message: 'the agent build is not on this host' });
      } else {
        emit({ type: 'step', host, step: 'uploading' });
        await link.upload(rel.file, { app: rel.app, version: rel.version, sha256: rel.sha256, size: rel.size, signature: rel.signature });
        emit({ type: 'step', host, step: 'uploaded' });
      }
    }
    emit({ type: 'step', host, step: 'switching' });
    const last = await link.activate({
      app: AGENT_APP, version: rel?.version ?? '', sha256: rel?.sha256 ?? '', strategy: '',
      reason: rel ? 'agent-upgrade' : AGENT_ROLLBACK_REASON, requested_by: opts.requestedBy, undo: false,
    }, () => undefined, opts.timeoutMs);
    if (last?.event === 'failed') return result('failed', from, from, last.message, { code: 'SLIPWAY_ERR_AGENT_UPGRADE', message: last.message });
    if (last?.event !== 'done') return result('unknown', from, '', `the switch ended without an outcome${last ? ` (last event: ${last.event})` : ''}`);
    if (/runs already/.test(last.message)) return result('unchanged', from, from, last.message);
    switched = true;
    emit({ type: 'step', host, step: 'waiting', message: last.message });
    // The agent restarts now: questions fail until the new one (or, switched back, the old one) serves.
    const waitMs = opts.confirmWaitMs ?? (AGENT_CONFIRM_DEADLINE_S + 45) * 1000;
    const deadline = now() + waitMs;
    let lastError = '';
    while (now() < deadline) {
      await pause(500);
      try {
        const v = verdictOf(await link.history(AGENT_APP, HISTORY_LIMIT), before);
        if (v.kind === 'pending') continue;
        const to = (await link.status()).agent?.version ?? '';
        if (v.kind === 'confirmed') return result('upgraded', from, to, v.message);
        return result('rolled_back', from, to, v.message, { code: 'SLIPWAY_ERR_AGENT_ROLLED_BACK', message: v.message });
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    return result('unknown', from, '', `switched, but the host said neither confirmed nor switched back within ${Math.round(waitMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}; check it: slipway status, journalctl -u slipway-agent`);
  } catch (err) {
    const e = await link.explain(err);
    return result(switched ? 'unknown' : 'failed', from, switched ? '' : from, e.message, { code: e.code, message: e.message });
  }
}

export interface AgentRolloutReport {
  hosts: AgentHostResult[];
  batches: string[][];
  interrupted: boolean;
}

export async function runAgentRollout(links: readonly AgentLink[], concurrency: number, opts: AgentRolloutOptions): Promise<AgentRolloutReport> {
  const byHost = new Map(links.map((l) => [l.host, l]));
  const results = new Map<string, AgentHostResult>(links.map((l) => [l.host, { host: l.host, ok: false, outcome: 'not_reached', from: '', to: '', message: 'not reached: the rollout stopped before this host', seconds: 0 }]));
  const batches = planBatches(links.map((l) => l.host), opts.batch);
  let interrupted = false;
  for (const [index, hosts] of batches.entries()) {
    opts.emit({ type: 'batch', index, count: batches.length, hosts });
    await mapBounded(hosts, concurrency, async (host) => {
      const r = await upgradeHost(byHost.get(host) as AgentLink, opts);
      results.set(host, r);
      opts.emit({ type: 'result', result: r });
    });
    if (hosts.some((h) => !results.get(h)?.ok)) break;
    if (opts.interrupted?.()) {
      interrupted = true;
      opts.emit({ type: 'interrupted' });
      break;
    }
    if (index < batches.length - 1 && opts.pauseS > 0) await (opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(opts.pauseS * 1000);
  }
  return { hosts: links.map((l) => results.get(l.host) as AgentHostResult), batches, interrupted };
}
