// Lock and Unlock: deploy leases per app on this agent (agent/locks.ts).
// The holder is the client certificate's CN under mTLS, with the operator
// name the client gives marked as claimed (handlers/common.ts requester); only
// on an insecure (loopback) connection is the request's own name all there is.
// A lock taken or released by hand (record), a forced release and a takeover
// of an expired lease go into the history; a deploy's own leases do not.
import { invalid } from '../../../common/errors.js';
import { appNameProblem } from '../../../common/names.js';
import { requester } from './common.js';
import { unary } from '../rpc.js';
import type { Lease, LockTable } from '../../locks.js';
import type { History } from '../../history.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { LockResponse } from '../../../proto/gen/slipway/v1/LockResponse.js';
import { formatTime } from '../../../common/time.js';

const LEASE_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DEFAULT_TTL_S = 30;
export const MAX_TTL_S = 7 * 24 * 3600;

function response(l: Lease | undefined, held: boolean): LockResponse {
  return l ? { held, lease_id: l.lease_id, holder: l.holder, reason: l.reason, since: l.since, expires_at: l.expires_at } : { held: false };
}

export interface LockHandlerDeps {
  locks: Pick<LockTable, 'acquire' | 'release' | 'current'>;
  history: Pick<History, 'append'>;
  log: Logger;
}

export function lockHandlers(deps: LockHandlerDeps): Pick<AgentHandlers, 'Lock' | 'Unlock'> {
  const log = deps.log;
  return {
    Lock: unary(log, 'Lock', async (req, call) => {
      const problem = appNameProblem(req.app);
      if (problem) throw invalid(problem);
      if (req.reason.length > 200 || /[\n\r]/.test(req.reason)) throw invalid('reason must be one line of at most 200 characters');
      if (req.lease_id && !LEASE_ID_RE.test(req.lease_id)) throw invalid(`lease_id "${req.lease_id.slice(0, 40)}" is not a lease id this agent gave out`);
      if (req.inspect) {
        const held = deps.locks.current(req.app);
        return response(held, held !== undefined);
      }
      const ttl = req.ttl_s || DEFAULT_TTL_S;
      if (ttl > MAX_TTL_S) throw invalid(`ttl_s ${ttl} is over the limit of ${MAX_TTL_S} s (a week)`);
      const holder = requester(call, req.holder);
      const { lease, took_over } = await deps.locks.acquire(req.app, holder, req.reason, ttl, req.lease_id);
      if (took_over) {
        log.warn({ app: req.app, holder, expired: took_over }, 'took over an expired lease (its holder stopped renewing it)');
        void deps.history.append({ app: req.app, action: 'lock', who: holder, message: `lease of ${took_over.holder} (${took_over.reason}) had expired at ${formatTime(took_over.expires_at)}; taken for: ${req.reason}` });
      } else if (req.record && !req.lease_id) {
        await deps.history.append({ app: req.app, action: 'lock', who: holder, message: `${req.reason} (until ${formatTime(lease.expires_at)})` });
      }
      return response(lease, true);
    }),

    Unlock: unary(log, 'Unlock', async (req, call) => {
      const problem = appNameProblem(req.app);
      if (problem) throw invalid(problem);
      if (req.lease_id && !LEASE_ID_RE.test(req.lease_id)) throw invalid(`lease_id "${req.lease_id.slice(0, 40)}" is not a lease id this agent gave out`);
      const holder = requester(call, req.requested_by);
      const { released } = await deps.locks.release(req.app, holder, req.lease_id, req.force);
      if (released && released.holder !== holder) {
        log.warn({ app: req.app, by: holder, lease: released }, 'lease released by force');
        void deps.history.append({ app: req.app, action: 'unlock', who: holder, message: `forced: released the lease of ${released.holder} (${released.reason}, since ${formatTime(released.since)})` });
      } else if (released && req.record) {
        await deps.history.append({ app: req.app, action: 'unlock', who: holder, message: `released: ${released.reason} (since ${formatTime(released.since)})` });
      }
      return response(released, false);
    }),
  };
}
