// Pure decisions of the coordinator: rollout batches, what to put back after
// a failure, where a rollback goes and how a host goes back. Plain data in,
// plain data out; the executor (rollout/executor.ts) carries them out.

export type Batch = number | string;

/** Hosts per batch: a number, or a percentage of the fleet ("25%"), at least 1. */
export function batchSize(batch: Batch, total: number): number {
  if (typeof batch === 'number') {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a whole number of hosts ≥ 1, not ${batch}`);
    return batch;
  }
  const m = /^(\d{1,3})%$/.exec(batch);
  if (m) {
    const pct = Number(m[1]);
    if (pct < 1 || pct > 100) throw new Error(`batch percentage must be 1% to 100%, not ${batch}`);
    return Math.max(1, Math.ceil((total * pct) / 100));
  }
  if (/^\d+$/.test(batch)) return batchSize(Number(batch), total);
  throw new Error(`batch must be a number of hosts or a percentage like "25%", not "${batch}"`);
}

/** The hosts in batches, in the order the config lists them. */
export function planBatches(hosts: readonly string[], batch: Batch): string[][] {
  const size = batchSize(batch, hosts.length);
  const out: string[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}

/**
 * A host's forward step: switched, failed (the host said so, or the call was
 * refused before anything ran), unknown (the outcome was not seen: the call
 * broke or timed out after it may have reached the host), or not reached.
 */
export type HostResult = 'switched' | 'failed' | 'unknown' | 'not_reached';

/**
 * After a batch with a failed or unknown host, the hosts to put back on the
 * version they had: `all` puts back every host this rollout switched, so the
 * fleet is consistent; `batch` only the switched hosts of that batch. Hosts
 * whose outcome is unknown are in it too, in either mode: the revert first
 * asks what they run (they may have switched while cut off). A failed host
 * still runs its old version (the swap left it untouched) and hosts not
 * reached keep theirs.
 */
export function planRevert(batches: readonly string[][], results: ReadonlyMap<string, HostResult>, revert: 'all' | 'batch'): string[] {
  const stopped = (r: HostResult | undefined) => r === 'failed' || r === 'unknown';
  const failedBatch = batches.findIndex((b) => b.some((h) => stopped(results.get(h))));
  if (failedBatch < 0) return [];
  const scope = revert === 'all' ? batches.slice(0, failedBatch + 1).flat() : batches[failedBatch];
  return scope.filter((h) => results.get(h) === 'switched' || results.get(h) === 'unknown');
}

export interface ReleaseRef {
  version: string;
  sha256: string;
}

/** One host's activation target: a release, and whether the activation pops the host's stack (undo) or pushes onto it. */
export interface Move extends ReleaseRef {
  undo: boolean;
}

/**
 * Where a host goes when a rollout puts it back after another host failed:
 * to what it ran before, undoing the move. A push (deploy, rollback to a
 * named version) is popped again; a pop (rollback without a version) is
 * pushed again, so the host's stack is what it was. null: it ran nothing
 * before, so there is nothing to go back to.
 */
export function moveBack(move: Move, before: ReleaseRef | null): Move | null {
  return before ? { version: before.version, sha256: before.sha256, undo: !move.undo } : null;
}

export interface HostView {
  host: string;
  current?: ReleaseRef;
  /** The entry beneath the current one on the host's activation stack. */
  target?: ReleaseRef;
  /** Releases present on the host (stored or unpacked). */
  present: ReleaseRef[];
  /** The host's activation stack, oldest first. */
  stack: ReleaseRef[];
}

export interface RollbackStep extends Move {
  host: string;
}

export type RollbackPlan = { ok: true; steps: RollbackStep[] } | { ok: false; problem: string };

/**
 * Where each host goes on `slipway rollback ENV [VERSION]`. Checked for the
 * whole fleet before any host is touched: every host must have the target,
 * and without VERSION all hosts must go back to the same release.
 */
export function planRollback(hosts: readonly HostView[], version?: string): RollbackPlan {
  if (version === undefined) {
    const none = hosts.filter((h) => !h.target);
    if (none.length > 0) return { ok: false, problem: `no earlier activation to go back to on ${none.map((h) => h.host).join(', ')}; name a version: slipway rollback ENV VERSION` };
    const distinct = new Map(hosts.map((h) => [h.target?.sha256, h.target as ReleaseRef]));
    if (distinct.size > 1) {
      const where = hosts.map((h) => `${h.host} → ${h.target?.version} (${h.target?.sha256.slice(0, 12)})`).join(', ');
      return { ok: false, problem: `hosts would go back to different releases: ${where}; name the version to go to: slipway rollback ENV VERSION` };
    }
    const missing = hosts.filter((h) => !h.present.some((r) => r.sha256 === h.target?.sha256));
    if (missing.length > 0) return { ok: false, problem: `the rollback target is no longer on ${missing.map((h) => h.host).join(', ')}; deploy it again instead` };
    return { ok: true, steps: hosts.map((h) => ({ host: h.host, ...(h.target as ReleaseRef), undo: true })) };
  }
  const choice = new Map<string, ReleaseRef | undefined>();
  for (const h of hosts) {
    const candidates = h.present.filter((r) => r.version === version);
    // A re-tagged version may be present twice: the one this host ran last wins.
    const fromStack = [...h.stack].reverse().find((s) => candidates.some((c) => c.sha256 === s.sha256));
    choice.set(h.host, fromStack ?? (candidates.length === 1 ? candidates[0] : undefined));
  }
  const missing = hosts.filter((h) => !choice.get(h.host));
  if (missing.length > 0) return { ok: false, problem: `${version} is not on ${missing.map((h) => h.host).join(', ')}; nothing was changed (deploy it there first, or pick a version every host has)` };
  const shas = new Set(hosts.map((h) => choice.get(h.host)?.sha256));
  if (shas.size > 1) return { ok: false, problem: `hosts hold different builds of ${version} (${[...shas].map((s) => s?.slice(0, 12)).join(', ')}); deploy the one you want instead` };
  return { ok: true, steps: hosts.map((h) => ({ host: h.host, ...(choice.get(h.host) as ReleaseRef), undo: false })) };
}
