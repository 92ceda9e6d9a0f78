// Deploy locks, coordinator side: every command that changes what runs
// (deploy, rollback, start/stop/restart, run) holds a lease on each agent it
// touches for its whole length, renewing it while it runs; a second
// operator is refused with who holds it, since when and why, and the command
// exits 1 having changed nothing. A holder that dies stops renewing and its
// lease expires on the agents by itself (agent/locks.ts).
import * as grpc from '@grpc/grpc-js';
import type { Fleet } from './fleet.js';
import type { AgentConnection } from './client.js';
import { operatorName } from './commands/common.js';
import { SlipwayError } from '../common/errors.js';

export class LockedError extends SlipwayError {
  constructor(readonly refusals: { host: string; message: string }[]) {
    super('SLIPWAY_ERR_LOCKED', refusals.length === 1 ? `${refusals[0].host}: ${refusals[0].message}` : `locked:\n${refusals.map((r) => `  ${r.host}: ${r.message}`).join('\n')}`);
    this.name = 'LockedError';
  }
}

export interface LockOptions {
  /** Lease length; renewed every third of it. */
  ttlS?: number;
  /** Warnings (a host that could not be locked because it is unreachable, a failed renewal). */
  warn?: (host: string, message: string) => void;
}

/** Lease length: 30 s, or SLIPWAY_LOCK_TTL_S (how soon a dead holder's lease frees itself). */
export const LEASE_TTL_S = (() => {
  const n = Number(process.env.SLIPWAY_LOCK_TTL_S);
  return Number.isFinite(n) && n >= 1 && n <= 3600 ? Math.round(n) : 30;
})();

interface Held {
  conn: AgentConnection;
  leaseId: string;
}

export interface HeldLocks {
  /** Stops renewing and releases every lease (errors ignored: a lease expires on its own). Safe to call twice. */
  release(): Promise<void>;
}

/**
 * Takes the app's lease on every host of the fleet and renews them until
 * release(). Hosts that cannot be reached are not locked (the command will
 * report them unreachable itself); a host that says "locked" releases what
 * was taken and throws LockedError before anything else happens.
 */
export async function holdLocks(fleet: Fleet, app: string, reason: string, opts: LockOptions = {}): Promise<HeldLocks> {
  const ttl = opts.ttlS ?? LEASE_TTL_S;
  const holder = operatorName();
  const outcomes = await fleet.each((conn) => conn.lock({ app, reason, ttl_s: ttl, holder }));
  const held: Held[] = [];
  const refusals: { host: string; message: string }[] = [];
  for (const [i, o] of outcomes.entries()) {
    if (o.ok) held.push({ conn: fleet.connections[i], leaseId: o.value.lease_id });
    else if (o.error.unreachable) opts.warn?.(o.host, `not locked: ${o.error.message}`);
    else if (o.error.status === grpc.status.UNIMPLEMENTED) opts.warn?.(o.host, 'not locked: this agent has no deploy locks (older version)');
    else refusals.push({ host: o.host, message: o.error.message });
  }
  const releaseAll = async () => {
    await Promise.all(held.splice(0).map((h) => h.conn.unlock({ app, lease_id: h.leaseId, requested_by: holder }).catch(() => {
      /* it expires on its own */
    })));
  };
  if (refusals.length > 0) {
    await releaseAll();
    throw new LockedError(refusals);
  }
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    renewing = Promise.all(held.map(async (h) => {
      try {
        await h.conn.lock({ app, reason, ttl_s: ttl, holder, lease_id: h.leaseId });
      } catch (err) {
        opts.warn?.(h.conn.host, `could not renew the deploy lock: ${(err as Error).message}`);
      }
    })).then(() => {});
  }, Math.max(1000, (ttl * 1000) / 3));
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await renewing;
      await releaseAll();
    },
  };
}

/** holdLocks around fn: the leases last exactly as long as fn runs. */
export async function withLocks<T>(fleet: Fleet, app: string, reason: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const locks = await holdLocks(fleet, app, reason, opts);
  try {
    return await fn();
  } finally {
    await locks.release();
  }
}
