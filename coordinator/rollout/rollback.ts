// `slipway rollback ENV [VERSION]`, carried out: what each host has
// (inspect, for planRollback), then the rollout (executor.ts) with the
// environment's batches, pause and revert; a host put back goes forward
// again to what it ran (moveBack), and a last look at what each host runs.
import type { HostView, RollbackStep } from '../plans.js';
import { eachHost } from './bounded.js';
import { activationStep, runRollout, settle, type HostSet, type StatusLink } from './executor.js';
import { HostRecords } from './records.js';
import type { RolloutOptions, RolloutResult } from './deploy.js';
import type { Emit } from './events.js';
import { SlipwayError } from '../../common/errors.js';

/** A connection that can also list what a host has. */
export interface RollbackLink extends StatusLink {
  listReleases(app?: string): Promise<{ version: string; sha256: string; stored: boolean; unpacked: boolean }[]>;
}

/** Each host's current release, stack and releases present; throws (nothing changed) unless every host answered. */
export async function inspectHosts(fleet: HostSet<RollbackLink>, app: string): Promise<HostView[]> {
  const views = await eachHost(fleet.connections, fleet.concurrency, async (conn): Promise<HostView> => {
    const [st, rels] = await Promise.all([conn.status(), conn.listReleases(app)]);
    const a = st.apps.find((x) => x.app === app);
    const stack = (a?.stack ?? []).map((s) => ({ version: s.version, sha256: s.sha256 }));
    return {
      host: conn.host,
      current: a?.desired_version ? { version: a.desired_version, sha256: a.desired_sha256 } : undefined,
      target: stack.length >= 2 ? stack[stack.length - 2] : undefined,
      present: rels.filter((r) => r.stored || r.unpacked).map((r) => ({ version: r.version, sha256: r.sha256 })),
      stack,
    };
  });
  const down = views.flatMap((v) => (v.ok ? [] : [`${v.host}: ${v.error.message}`]));
  if (down.length > 0) throw new SlipwayError('SLIPWAY_ERR_PLAN', `not every host answered, so nothing was changed: ${down.join('; ')}`);
  return views.flatMap((v) => (v.ok ? [v.value] : []));
}

export type RollbackOptions = RolloutOptions;

/** Moves every host as planRollback said, batch by batch. */
export async function rollback(fleet: HostSet<StatusLink>, app: string, views: readonly HostView[], plan: readonly RollbackStep[], opts: RollbackOptions): Promise<RolloutResult> {
  const records = new HostRecords(fleet.connections.map((c) => c.host));
  const emit: Emit = (e) => { records.apply(e); opts.emit(e); };
  const current = new Map(views.map((v) => [v.host, v.current ?? null]));
  const steps = plan.map((s) => activationStep(s.host, current.get(s.host) ?? null, { version: s.version, sha256: s.sha256, undo: s.undo }, 'rollback'));
  for (const s of steps) emit({ type: 'inspected', host: s.host, before: s.from });
  const rollout = {
    app, name: 'rollback', steps, batch: opts.batch, pauseS: opts.pauseS, revert: opts.revert,
    strategy: opts.strategy, requestedBy: opts.requestedBy, timeoutMs: opts.activateTimeoutMs, unknownGraceMs: opts.unknownGraceMs,
  };
  const report = await runRollout(rollout, fleet, { emit, interrupted: opts.interrupted, sleep: opts.sleep });
  await settle(fleet, rollout, report, emit);
  return { hosts: records.list(), batches: report.batches, interrupted: report.interrupted };
}
