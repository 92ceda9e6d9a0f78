// The lifecycle of one app as a pure function: transition(state, event)
// gives the next state and the effects the runtime must carry out (timers,
// crash counting, starting or stopping a process, a rollback). It decides
// and does nothing; AppRuntime does the I/O and reports what happened as the
// next event. The states are the design's (one list, used verbatim by the
// API, /status and metrics).
//
//                    start (operator),
//                    reconciled_nothing               ready
//      stopped ──────────────────────────► starting ─────────► running
//         ▲                                 │  ▲  │              │
//         │  not_ready, start_failed        │  │  │ crashed,     │ crashed,
//         └──────── (operator's start) ─────┘  │  │ not_ready    │ restart decided
//                                 restart_due  │  │ (agent's)    │
//                                              │  ▼              │
//                                            backoff ◄───────────┘
//
//   running, starting (agent's) ── crashed: too many; start_failed ──► crashloop
//
//   any state but activating ── activate ──► activating ── done, restored ──► running
//                                               ├── failed, the old one serves ──► running
//                                               └── failed, nothing serves ──► stopped
//   any state but activating ── stop, reconciled_idle ──► stopped
//                            ── reconciled_running ──► running
//                            ── start ──► starting (operator's)
//
// An event that does not apply to a state is ignored (same state, no effects:
// a stale restart timer, a readiness result nobody waits for) or refused
// (the caller's mistake, e.g. a second activation while one is in progress).
import type { CrashHistory, RestartDecision } from './restart-policy.js';

export const APP_STATES = ['stopped', 'starting', 'running', 'backoff', 'crashloop', 'activating'] as const;
export type AppStateName = (typeof APP_STATES)[number];

export interface Lifecycle {
  name: AppStateName;
  /** Why it is in this state, for people ('' when there is nothing to say). */
  reason: string;
  /**
   * Who started it (starting only): an operator's start that fails ends in
   * stopped; the agent's own start (a restart, reconcile) counts as a crash.
   */
  by?: 'operator' | 'agent';
}

export type AppEvent =
  /** An activation begins (its release is unpacked). */
  | { type: 'activate'; version: string }
  | { type: 'activation_done' }
  /** The activation failed and the old version was started again. */
  | { type: 'activation_restored' }
  /** The activation failed; `serving`: the old version's process still runs. */
  | { type: 'activation_failed'; version: string; why: string; serving: boolean }
  /** The app's process exited on its own; the restart policy's decision about it. */
  | { type: 'crashed'; how: string; decision: RestartDecision }
  /** The backoff delay is over. */
  | { type: 'restart_due'; version: string }
  /** An operator starts the desired release. */
  | { type: 'start'; version: string }
  | { type: 'ready' }
  /** The started process did not become ready; `alive`: it still runs. */
  | { type: 'not_ready'; why: string; alive: boolean }
  /** The process could not be started at all. */
  | { type: 'start_failed'; version: string; why: string }
  /** An operator's stop is done. */
  | { type: 'stop'; by: string }
  /** Reconcile found the desired release running and re-attached to it. */
  | { type: 'reconciled_running' }
  /** Reconcile found nothing running where the desired release should run. */
  | { type: 'reconciled_nothing'; version: string }
  /** Reconcile found that nothing should run (never activated, stopped by an operator, release unusable). */
  | { type: 'reconciled_idle'; reason: string };

export type AppEventType = AppEvent['type'];

export const APP_EVENT_TYPES: readonly AppEventType[] = [
  'activate', 'activation_done', 'activation_restored', 'activation_failed', 'crashed', 'restart_due', 'start',
  'ready', 'not_ready', 'start_failed', 'stop', 'reconciled_running', 'reconciled_nothing', 'reconciled_idle',
];

export type Effect =
  /** Forget a pending restart. */
  | { kind: 'cancel_restart' }
  /** A fresh start: earlier crashes no longer count. */
  | { kind: 'reset_crashes' }
  /** Keep the restart policy's crash history and count one more restart. */
  | { kind: 'record_crash'; history: CrashHistory }
  | { kind: 'schedule_restart'; delayMs: number; why: string }
  /** A crash loop: roll back if it came right after an activation (run.restart.min_healthy_s). */
  | { kind: 'consider_rollback'; why: string }
  /** Start the release, wait until it is ready, and report `ready`, `not_ready` or `start_failed`. */
  | { kind: 'start_release' }
  /** Stop the process that did not become ready. */
  | { kind: 'stop_process' }
  /** Ask the restart policy about that process as a crash, and report `crashed`. */
  | { kind: 'report_crash'; how: string };

export interface Transition {
  state: Lifecycle;
  effects: Effect[];
  /** Set when the event does not apply to the state and is the caller's mistake. */
  refused?: string;
}

const same = (state: Lifecycle): Transition => ({ state, effects: [] });
const to = (name: AppStateName, reason = '', effects: Effect[] = [], by?: Lifecycle['by']): Transition =>
  ({ state: by ? { name, reason, by } : { name, reason }, effects });
const refuse = (state: Lifecycle, why: string): Transition => ({ state, effects: [], refused: why });

/** The next state of an app and what to do about it. */
export function transition(s: Lifecycle, e: AppEvent): Transition {
  const activating = s.name === 'activating';
  switch (e.type) {
    case 'activate':
      if (activating) return refuse(s, `an activation is already in progress (${s.reason})`);
      // Versions still draining from earlier swaps drain on to their own deadlines (AppProcesses bounds how many).
      return to('activating', `to ${e.version}`, [{ kind: 'cancel_restart' }]);
    case 'activation_done':
      if (!activating) return refuse(s, 'no activation is in progress');
      return to('running', '', [{ kind: 'reset_crashes' }]);
    case 'activation_restored':
      if (!activating) return refuse(s, 'no activation is in progress');
      return to('running');
    case 'activation_failed':
      if (!activating) return refuse(s, 'no activation is in progress');
      return e.serving ? to('running') : to('stopped', `activation of ${e.version} failed: ${e.why}`);
    case 'crashed':
      return crashed(s, e.how, e.decision);
    case 'restart_due':
      // Only a pending restart is due; any other state means the timer is stale.
      return s.name === 'backoff' ? to('starting', e.version, [{ kind: 'start_release' }], 'agent') : same(s);
    case 'start':
      if (activating) return refuse(s, 'an activation is in progress');
      return to('starting', e.version, [{ kind: 'cancel_restart' }, { kind: 'reset_crashes' }, { kind: 'start_release' }], 'operator');
    case 'ready':
      return s.name === 'starting' ? to('running') : same(s);
    case 'not_ready':
      if (s.name !== 'starting') return same(s);
      if (s.by === 'operator') return to('stopped', `start failed: ${e.why}`, [{ kind: 'stop_process' }]);
      // The agent's own start: a process that exited is reported as a crash by its exit.
      return e.alive ? { state: s, effects: [{ kind: 'stop_process' }, { kind: 'report_crash', how: e.why }] } : same(s);
    case 'start_failed':
      if (s.name !== 'starting') return same(s);
      return s.by === 'operator' ? to('stopped', `start failed: ${e.why}`) : to('crashloop', `cannot start ${e.version}: ${e.why}`);
    case 'stop':
      if (activating) return refuse(s, 'an activation is in progress');
      return to('stopped', `stopped by ${e.by || 'an operator'}`, [{ kind: 'cancel_restart' }]);
    case 'reconciled_running':
      if (activating) return refuse(s, 'an activation is in progress');
      return to('running', '', [{ kind: 'cancel_restart' }]);
    case 'reconciled_nothing':
      if (activating) return refuse(s, 'an activation is in progress');
      // A pending restart will start it; a crash loop waits for an operator.
      if (s.name === 'backoff' || s.name === 'crashloop') return same(s);
      return to('starting', e.version, [{ kind: 'start_release' }], 'agent');
    case 'reconciled_idle':
      if (activating) return refuse(s, 'an activation is in progress');
      return to('stopped', e.reason, [{ kind: 'cancel_restart' }]);
  }
}

function crashed(s: Lifecycle, how: string, d: RestartDecision): Transition {
  const why = `${how}; ${d.reason}`;
  switch (s.name) {
    case 'running':
      break;
    case 'starting':
      // An operator's start that exits before it is ready ends with its not_ready.
      if (s.by === 'operator') return same(s);
      break;
    case 'activating':
      // The old version died mid-swap: counted; what runs next is the activation's outcome.
      return { state: s, effects: [{ kind: 'record_crash', history: d.history }] };
    default:
      // stopped, backoff, crashloop: no process of the app was meant to run.
      return same(s);
  }
  if (d.action === 'crashloop') return to('crashloop', why, [{ kind: 'record_crash', history: d.history }, { kind: 'consider_rollback', why }]);
  return to('backoff', why, [{ kind: 'record_crash', history: d.history }, { kind: 'schedule_restart', delayMs: d.delayMs, why }]);
}
