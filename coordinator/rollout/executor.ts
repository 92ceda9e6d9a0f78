// The one executor of deploys, rollbacks and start/stop/restart: it moves
// hosts batch by batch as planned (plans.ts), at most `concurrency` at a
// time within a batch, pauses between batches, stops after the batch in
// which a host failed (or during which the operator pressed Ctrl-C), and
// then puts back what planRevert says. It reports every step as an event
// (events.ts) and prints nothing.
import { moveBack, planBatches, planRevert, type Batch, type HostResult, type Move, type ReleaseRef } from '../plans.js';
import { eachHost, mapBounded, type HostFailure } from './bounded.js';
import type { AgentEvent, Emit, HostAction, Phase } from './events.js';
import type { ActivateRequest } from '../../proto/gen/slipway/v1/ActivateRequest.js';
import { failureJson } from './bounded.js';

/** The Activate request, every field given. */
export type ActivateArgs = Required<ActivateRequest>;

/** What the executor needs of a host's connection (coordinator/client.ts's AgentConnection, or a test's fake). */
export interface StepLink {
  readonly host: string;
  activate(req: ActivateArgs, onEvent: (e: AgentEvent) => void, timeoutMs: number): Promise<AgentEvent | undefined>;
  control(app: string, action: string, requestedBy: string, onEvent: (e: AgentEvent) => void, timeoutMs: number): Promise<AgentEvent | undefined>;
  explain(err: unknown): Promise<HostFailure>;
  /** What the host runs: how a revert learns where a host whose outcome was unknown ended up. */
  status?(app?: string): Promise<{ apps: AppView[] }>;
}

/** The hosts of a command: their connections, in the config's order, and how many may be asked at once. */
export interface HostSet<L> {
  readonly connections: readonly L[];
  readonly concurrency: number;
}

/** One host's part: what moves it, what it ran before, and what puts it back (null: nothing can). */
export interface HostStep {
  host: string;
  action: HostAction;
  from: ReleaseRef | null;
  back: HostAction | null;
}

/** A host's Activate step, and the Activate that puts it back (moveBack). */
export function activationStep(host: string, from: ReleaseRef | null, to: Move, reason: 'deploy' | 'rollback'): HostStep {
  const back = moveBack(to, from);
  return { host, from, action: { kind: 'activate', to, reason }, back: back && { kind: 'activate', to: back, reason: 'revert' } };
}

export interface Rollout {
  app: string;
  /** What the operator runs ('deploy', 'rollback', 'restart', …), for messages. */
  name: string;
  /** In the config's order: that is the order of the batches. */
  steps: HostStep[];
  batch: Batch;
  pauseS: number;
  /** What to put back when a host fails (planRevert); undefined: nothing (start/stop/restart). */
  revert?: 'all' | 'batch';
  strategy: string;
  requestedBy: string;
  timeoutMs: number;
  /**
   * How long the revert keeps asking a host whose outcome was unknown what it
   * runs (it may be cut off still). Default UNKNOWN_GRACE_MS.
   */
  unknownGraceMs?: number;
}

/** The default of Rollout.unknownGraceMs. */
export const UNKNOWN_GRACE_MS = 60_000;
/** Between two questions to a host whose outcome is unknown. */
const UNKNOWN_POLL_MS = 1000;

export interface RolloutRun {
  emit: Emit;
  /** True once the operator pressed Ctrl-C: stop after the current batch. */
  interrupted?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  /** A monotonic clock in ms (the grace period); default performance.now. */
  now?: () => number;
}

export interface RolloutReport {
  batches: string[][];
  /** Each host's forward step: switched, failed, unknown or not reached (an unknown one learned later by the revert is what it learned). */
  results: Map<string, HostResult>;
  /** The hosts that were to be put back (each one's host_result says whether it went). */
  reverted: string[];
  interrupted: boolean;
}

export async function runRollout(rollout: Rollout, fleet: HostSet<StepLink>, run: RolloutRun): Promise<RolloutReport> {
  const { emit } = run;
  const links = new Map(fleet.connections.map((c) => [c.host, c]));
  const steps = new Map(rollout.steps.map((s) => [s.host, s]));
  const batches = planBatches(rollout.steps.map((s) => s.host), rollout.batch);
  const results = new Map<string, HostResult>(rollout.steps.map((s) => [s.host, 'not_reached']));
  let interrupted = false;

  const linkOf = (host: string): StepLink => {
    const link = links.get(host);
    if (!link) throw new Error(`no connection to ${host}`);
    return link;
  };
  const move = async (host: string, action: HostAction, phase: Phase): Promise<StepOutcome> => {
    emit({ type: 'host_started', host, phase, action, from: phase === 'forward' ? steps.get(host)?.from ?? null : null });
    return runStep(linkOf(host), action, rollout, phase, emit);
  };

  for (const [i, batch] of batches.entries()) {
    emit({ type: 'batch_started', index: i, count: batches.length, hosts: batch });
    await mapBounded(batch, fleet.concurrency, async (host) => {
      const outcome = await move(host, (steps.get(host) as HostStep).action, 'forward');
      results.set(host, outcome === 'done' ? 'switched' : outcome);
    });
    if (batch.some((h) => results.get(h) === 'failed' || results.get(h) === 'unknown')) break;
    // Ctrl-C during the last batch stops nothing: every host has been moved (or failed) already.
    if (i < batches.length - 1 && run.interrupted?.()) {
      interrupted = true;
      emit({ type: 'interrupted' });
      break;
    }
    if (i < batches.length - 1 && rollout.pauseS > 0) await (run.sleep ?? sleep)(rollout.pauseS * 1000);
  }

  const reverted = rollout.revert ? planRevert(batches, results, rollout.revert) : [];
  const unknown = reverted.filter((h) => results.get(h) === 'unknown');
  if (rollout.revert && reverted.length > 0) emit({ type: 'revert_started', hosts: reverted, revert: rollout.revert, ...(unknown.length ? { unknown } : {}) });
  await mapBounded(reverted, fleet.concurrency, async (host) => {
    const step = steps.get(host) as HostStep;
    if (results.get(host) === 'unknown') {
      // Cut off mid-step: ask what it runs before deciding whether it needs putting back.
      const seen = await learnOutcome(linkOf(host), step, rollout, run);
      if (seen === 'unknown') return;
      results.set(host, seen);
      if (seen === 'failed') return;
    }
    if (step.back) await move(host, step.back, 'revert');
    else emit({ type: 'host_result', host, phase: 'revert', action: 'activate', ok: false, error: { message: `ran nothing before this ${rollout.name}, so there is nothing to put back`, unreachable: false } });
  });
  return { batches, results, reverted, interrupted };
}

/** How a host's step ended, as far as the coordinator saw. */
export type StepOutcome = 'done' | 'failed' | 'unknown';

/**
 * A failed call whose outcome is nevertheless known: the request never left
 * (refused connection, unknown name), or the agent (or our TLS check)
 * refused it with a catalogued reason before anything ran, and no event of
 * the step had come. Anything else (a deadline, a broken or silent
 * connection, an error without the agent's code) may have come after the
 * host acted: unknown.
 */
export function callFailureIsKnown(e: HostFailure, eventsSeen: number): boolean {
  if (e.neverSent) return true;
  return eventsSeen === 0 && !e.unreachable && e.code !== undefined && e.code !== 'SLIPWAY_ERR_HOST_REFUSED' && e.code !== 'SLIPWAY_ERR_INTERNAL';
}

/** One host's Activate or Control, its events passed on as they come: done (an activation also on rolled_back), failed, or unknown (no outcome seen). */
async function runStep(link: StepLink, action: HostAction, rollout: Rollout, phase: Phase, emit: Emit): Promise<StepOutcome> {
  const host = link.host;
  let seen = 0;
  const onEvent = (event: AgentEvent) => { seen++; emit({ type: 'host_event', host, phase, action: action.kind, event }); };
  try {
    const last = action.kind === 'activate'
      ? await link.activate({
        app: rollout.app, version: action.to.version, sha256: action.to.sha256, strategy: rollout.strategy,
        reason: action.reason, requested_by: rollout.requestedBy, undo: action.to.undo,
      }, onEvent, rollout.timeoutMs)
      : await link.control(rollout.app, action.action, rollout.requestedBy, onEvent, rollout.timeoutMs);
    const ok = last?.event === 'done' || (action.kind === 'activate' && last?.event === 'rolled_back');
    const failed = last?.event === 'failed';
    if (!ok && !failed) {
      // The stream ended without the step's last word: what the host did is not known.
      const what = action.kind === 'activate' ? 'the activation' : action.action;
      emit({ type: 'host_result', host, phase, action: action.kind, ok: false, unknown: true, error: { message: `${what} ended without an outcome${last ? ` (last event: ${last.event})` : ''}`, unreachable: false } });
      return 'unknown';
    }
    emit({ type: 'host_result', host, phase, action: action.kind, ok, ...(ok ? {} : { error: { message: last?.message || 'failed', unreachable: false } }) });
    return ok ? 'done' : 'failed';
  } catch (err) {
    const e = await link.explain(err);
    const known = callFailureIsKnown(e, seen);
    emit({ type: 'host_result', host, phase, action: action.kind, ok: false, error: failureJson(e), callFailed: true, ...(known ? {} : { unknown: true }) });
    return known ? 'failed' : 'unknown';
  }
}

/**
 * A host whose forward step's outcome was unknown: asked what it runs every
 * UNKNOWN_POLL_MS until it answers with a settled state (not activating) or
 * the grace period ends. 'switched': it runs the step's target (it finished
 * while cut off); 'failed': it does not (the step did not take); 'unknown':
 * no answer in time, or an answer that is neither.
 */
async function learnOutcome(link: StepLink, step: HostStep, rollout: Rollout, run: RolloutRun): Promise<'switched' | 'failed' | 'unknown'> {
  const { emit } = run;
  const host = link.host;
  const graceMs = rollout.unknownGraceMs ?? UNKNOWN_GRACE_MS;
  const now = run.now ?? (() => performance.now());
  const pause = run.sleep ?? sleep;
  const target = step.action.kind === 'activate' ? step.action.to : undefined;
  if (!target || !link.status) {
    emit({ type: 'outcome_unresolved', host, message: 'its outcome is unknown and cannot be asked for' });
    return 'unknown';
  }
  emit({ type: 'outcome_check', host, grace_s: graceMs / 1000 });
  const end = now() + graceMs;
  let why = 'no answer';
  for (;;) {
    try {
      const st = await link.status(rollout.app);
      const app = st.apps.find((a) => a.app === rollout.app);
      if (app?.state !== 'activating') {
        const runs = app?.desired_version ? `${app.desired_version} (${app.state})` : 'nothing';
        if (app && app.desired_sha256 === target.sha256) {
          emit({ type: 'outcome_learned', host, switched: true, runs });
          return 'switched';
        }
        const before = step.from;
        if (before ? app?.desired_sha256 === before.sha256 : !app?.desired_sha256) {
          emit({ type: 'outcome_learned', host, switched: false, runs });
          return 'failed';
        }
        emit({ type: 'outcome_unresolved', host, message: `it runs ${runs}, neither ${before?.version ?? 'nothing'} nor ${target.version}` });
        return 'unknown';
      }
      why = `still activating ${app.desired_version}`;
    } catch (err) {
      const e = await link.explain(err);
      if (e.code === 'SLIPWAY_ERR_APP_NOT_FOUND' && !step.from) {
        emit({ type: 'outcome_learned', host, switched: false, runs: 'nothing' });
        return 'failed';
      }
      why = e.message;
    }
    if (now() >= end) {
      emit({ type: 'outcome_unresolved', host, message: `no settled answer within ${Math.round(graceMs / 1000)} s (${why}); it may run ${step.from?.version ?? 'nothing'} or ${target.version}` });
      return 'unknown';
    }
    await pause(UNKNOWN_POLL_MS);
  }
}

/** An app on a host, as far as the executors read the agent's Status. */
export interface AppView {
  app: string;
  state: string;
  version: string;
  pid: number;
  desired_version: string;
  desired_sha256: string;
  /** The host's activation stack, oldest first. */
  stack: ReleaseRef[];
}

/** A connection that can also tell what a host runs. */
export interface StatusLink extends StepLink {
  status(app?: string): Promise<{ apps: AppView[] }>;
}

/**
 * After a rollout: what each host runs now. A host is ok when it switched,
 * runs the version it was to run, and no host had to be put back.
 */
export async function settle(fleet: HostSet<StatusLink>, rollout: Rollout, report: RolloutReport, emit: Emit): Promise<void> {
  const target = new Map(rollout.steps.map((s) => [s.host, s.action.kind === 'activate' ? s.action.to.version : undefined]));
  const outcomes = await eachHost(fleet.connections, fleet.concurrency, async (conn) => {
    const st = await conn.status(rollout.app);
    const app = st.apps.find((a) => a.app === rollout.app);
    const switched = report.results.get(conn.host) === 'switched';
    const version = target.get(conn.host);
    const runsIt = app?.version === version;
    emit({
      type: 'settled', host: conn.host, state: app ? `${app.state} ${app.version}`.trim() : '', pid: app?.pid ?? 0,
      ok: switched && runsIt && report.reverted.length === 0,
      ...(switched && !runsIt ? { error: { message: `host runs ${app?.version || 'nothing'} after the activation`, unreachable: false } } : {}),
    });
  });
  // A host cut off after its step: what it runs now is not known, and the output says so.
  for (const o of outcomes) {
    if (!o.ok && report.results.get(o.host) !== 'unknown') {
      emit({ type: 'settled', host: o.host, state: '', pid: 0, ok: false, error: { ...failureJson(o.error), message: `could not ask what it runs after the ${rollout.name}: ${o.error.message}` } });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
