// Each host's record of a rollout, folded from its events: what the summary
// table shows and `deploy --json` / `rollback --json` print as `hosts`
// (docs/json-output.md). Pure: events in, records out.
import type { ReleaseRef } from '../plans.js';
import type { HostFailure } from './bounded.js';
import type { RolloutEvent } from './events.js';

/**
 * unknown: the host's step (forward, or its revert) was not seen to end, and
 * asking it afterwards settled nothing: it may run either version. Never
 * reported as done or failed. unchanged: the host already ran the release
 * (a re-deploy of what runs): it counts as done, but nothing moved.
 */
export type HostOutcome = 'switched' | 'unchanged' | 'failed' | 'unknown' | 'reverted' | 'revert_failed' | 'not_reached' | 'upload_failed' | 'uploaded';

export interface HostDeploy {
  host: string;
  ok: boolean;
  outcome: HostOutcome;
  upload: 'sent' | 'skipped' | 'failed' | 'not_started';
  uploaded_bytes: number;
  /** How the bytes went: the agent's data port, or gRPC's Upload stream (an older agent, upload_listen: false, or the data port out of reach); null when none were sent. */
  /** store: the agent fetched it from the artifact store (uploaded_bytes: what it fetched). */
  upload_channel: 'data-port' | 'grpc' | 'store' | null;
  /** Why they went over gRPC rather than the data port. */
  upload_fallback?: string;
  /** What the host ran before. */
  before: ReleaseRef | null;
  state: string;
  pid: number;
  events: { event: string; at: string; message: string }[];
  output: string[];
  error?: HostFailure;
}

function newRecord(host: string): HostDeploy {
  return { host, ok: false, outcome: 'not_reached', upload: 'not_started', uploaded_bytes: 0, upload_channel: null, before: null, state: '', pid: 0, events: [], output: [] };
}

/** The records of a fleet's hosts, in the fleet's order, updated by apply(). */
export class HostRecords {
  private readonly byHost: Map<string, HostDeploy>;
  /** Hosts whose last agent event said the release already ran. */
  private readonly unchanged = new Set<string>();

  constructor(hosts: readonly string[]) {
    this.byHost = new Map(hosts.map((h) => [h, newRecord(h)]));
  }

  list(): HostDeploy[] {
    return [...this.byHost.values()];
  }

  apply(e: RolloutEvent): void {
    if (e.type === 'stopped_before_activation') {
      if (e.why === 'before_activate_failed') for (const r of this.byHost.values()) Object.assign(r, { outcome: 'not_reached', error: { message: e.message, unreachable: false } });
      return;
    }
    const r = 'host' in e ? this.byHost.get(e.host) : undefined;
    if (!r) return;
    switch (e.type) {
      case 'inspected':
        r.before = e.before;
        break;
      case 'upload_skipped':
        r.upload = 'skipped';
        break;
      case 'upload_done':
        r.upload = e.alreadyStored ? 'skipped' : 'sent';
        r.uploaded_bytes = e.bytes;
        if (e.channel !== 'stored') r.upload_channel = e.channel;
        if (e.fallback) r.upload_fallback = e.fallback;
        break;
      case 'upload_failed':
        Object.assign(r, { upload: 'failed', outcome: 'upload_failed', error: e.error });
        break;
      case 'uploaded':
        Object.assign(r, { ok: true, outcome: 'uploaded' });
        break;
      case 'host_event':
        r.events.push({ event: e.event.event, at: e.event.at, message: e.event.message });
        if (e.event.pid) r.pid = e.event.pid;
        if (e.event.event === 'failed') r.output = e.event.output;
        if (e.phase === 'forward') {
          if (e.event.unchanged) this.unchanged.add(r.host);
          else this.unchanged.delete(r.host);
        }
        break;
      case 'host_result':
        r.outcome = e.unknown ? 'unknown' : e.phase === 'forward' ? (e.ok ? (this.unchanged.has(r.host) ? 'unchanged' : 'switched') : 'failed') : (e.ok ? 'reverted' : 'revert_failed');
        if (e.ok) delete r.error;
        else r.error = e.error ?? { message: 'failed', unreachable: false };
        if (e.unknown && r.error) r.error = { ...r.error, message: `outcome unknown: ${r.error.message}` };
        break;
      case 'outcome_learned':
        // Asked after it was cut off: it finished the switch (its revert follows), or the switch did not take.
        if (e.switched) {
          r.outcome = 'switched';
          delete r.error;
        } else {
          r.outcome = 'failed';
          r.error = { message: `cut off during the step; asked later, it still runs ${e.runs}`, unreachable: false };
        }
        break;
      case 'outcome_unresolved':
        r.outcome = 'unknown';
        r.error = { message: `outcome unknown: ${e.message}`, unreachable: true };
        break;
      case 'settled':
        r.state = e.state;
        if (e.pid) r.pid = e.pid;
        r.ok = e.ok;
        if (e.error) r.error = e.error;
        break;
      default:
        break;
    }
  }
}
