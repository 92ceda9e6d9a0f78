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
}

export interface RolloutRun {
  emit: Emit;
  /** True once the operator pressed Ctrl-C: stop after the current batch. */
  interrupted?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

export interface RolloutReport {
  batches: string[][];
  /** Each host's forward step: switched, failed or not reached. */
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

  const move = async (host: string, action: HostAction, phase: Phase): Promise<boolean> => {
    const link = links.get(host);
    if (!link) throw new Error(`no connection to ${host}`);
    emit({ type: 'host_started', host, phase, action, from: phase === 'forward' ? steps.get(host)?.from ?? null : null });
    return runStep(link, action, rollout, phase, emit);
  };

  for (const [i, batch] of batches.entries()) {
    emit({ type: 'batch_started', index: i, count: batches.length, hosts: batch });
    await mapBounded(batch, fleet.concurrency, async (host) => {
      const ok = await move(host, (steps.get(host) as HostStep).action, 'forward');
      results.set(host, ok ? 'switched' : 'failed');
    });
    if (batch.some((h) => results.get(h) === 'failed')) break;
    if (run.interrupted?.()) {
      interrupted = true;
      emit({ type: 'interrupted' });
      break;
    }
    if (i < batches.length - 1 && rollout.pauseS > 0) await (run.sleep ?? sleep)(rollout.pauseS * 1000);
  }

  const reverted = rollout.revert ? planRevert(batches, results, rollout.revert) : [];
  if (rollout.revert && reverted.length > 0) emit({ type: 'revert_started', hosts: reverted, revert: rollout.revert });
  await mapBounded(reverted, fleet.concurrency, async (host) => {
    const back = (steps.get(host) as HostStep).back;
    if (back) await move(host, back, 'revert');
    else emit({ type: 'host_result', host, phase: 'revert', action: 'activate', ok: false, error: { message: `ran nothing before this ${rollout.name}, so there is nothing to put back`, unreachable: false } });
  });
  return { batches, results, reverted, interrupted };
}

/** One host's Activate or Control, its events passed on as they come; true when it ended done (an activation also on rolled_back). */
async function runStep(link: StepLink, action: HostAction, rollout: Rollout, phase: Phase, emit: Emit): Promise<boolean> {
  const host = link.host;
  const onEvent = (event: AgentEvent) => emit({ type: 'host_event', host, phase, action: action.kind, event });
  try {
    const last = action.kind === 'activate'
      ? await link.activate({
        app: rollout.app, version: action.to.version, sha256: action.to.sha256, strategy: rollout.strategy,
        reason: action.reason, requested_by: rollout.requestedBy, undo: action.to.undo,
      }, onEvent, rollout.timeoutMs)
      : await link.control(rollout.app, action.action, rollout.requestedBy, onEvent, rollout.timeoutMs);
    const ok = last?.event === 'done' || (action.kind === 'activate' && last?.event === 'rolled_back');
    const missing = action.kind === 'activate' ? 'the activation ended without an outcome' : `${action.action} ended without an outcome`;
    emit({ type: 'host_result', host, phase, action: action.kind, ok, ...(ok ? {} : { error: { message: last?.message || missing, unreachable: false } }) });
    return ok;
  } catch (err) {
    const e = await link.explain(err);
    emit({ type: 'host_result', host, phase, action: action.kind, ok: false, error: failureJson(e), callFailed: true });
    return false;
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
  await eachHost(fleet.connections, fleet.concurrency, async (conn) => {
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
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
