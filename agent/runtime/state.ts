// state.json, one per app: what should run, the stack of successful
// activations, the history, and the process the agent started (so an agent
// that was killed can find and end it). Written atomically; versioned.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic.js';

export const STATE_SCHEMA = 1;
const STACK_MAX = 50;
const HISTORY_MAX = 100;

export interface ReleaseId {
  version: string;
  sha256: string;
}

export interface ActivationRecord extends ReleaseId {
  at: string;
  strategy: string;
  reason: string;
  result: 'done' | 'failed';
  message: string;
  requested_by: string;
}

export interface ProcessRecord extends ReleaseId {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22): a reused pid never matches. */
  start_ticks: number;
  started_at: string;
  /**
   * The release the process was started with, when an in-place upgrade (the
   * upgrade command, e.g. an Erlang relup) has since moved it to version and
   * sha256: the supervising process still knows it by this one.
   */
  started_as?: ReleaseId;
  /** Set while it drains: when its stop signal went, and when what is left of it is killed (ISO times). */
  stop_sent_at?: string;
  drain_deadline?: string;
}

/**
 * The activation in progress, recorded while it runs, so that an agent
 * started after a kill can finish it the way it was asked (a deploy pushes,
 * an undo pops) when its new version already serves.
 */
export interface PendingActivation extends ReleaseId {
  at: string;
  strategy: string;
  reason: string;
  requested_by: string;
  undo: boolean;
  restart: boolean;
  /**
   * Set in the write that records the swap, cleared once the host's history
   * has it too: an agent killed in between finds it and writes that entry.
   */
  done?: { from: string; message: string; seconds: number };
}

export interface AppState {
  schema: number;
  app: string;
  desired: ReleaseId | null;
  /** Set by an operator's stop; reconcile leaves a stopped app alone. */
  stopped: boolean;
  stack: ActivationRecord[];
  history: ActivationRecord[];
  /** Processes the agent started and has not seen exit (two during a hot swap). */
  processes: ProcessRecord[];
  /** Restarts after a crash of the version that runs now: 0 again after every activation of a release (a restart onto the same one keeps the count). */
  restarts: number;
  /** The activation in progress, if any. */
  activating: PendingActivation | null;
}

export function emptyState(app: string): AppState {
  return { schema: STATE_SCHEMA, app, desired: null, stopped: false, stack: [], history: [], processes: [], restarts: 0, activating: null };
}

/** Reads state.json; a missing file is an empty state. A file of a newer schema is an error, never overwritten. */
export async function readState(file: string, app: string): Promise<AppState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(app);
    throw err;
  }
  const data = JSON.parse(text) as Partial<AppState>;
  if (typeof data.schema !== 'number' || data.schema > STATE_SCHEMA) {
    throw new Error(`${file} has schema ${String(data.schema)}, which this agent (schema ${STATE_SCHEMA}) does not know; upgrade the agent`);
  }
  return { ...emptyState(app), ...data, schema: STATE_SCHEMA };
}

export async function writeState(file: string, state: AppState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 1)}\n`, 0o600);
}

/** Pure: the entry beneath the current one on the activation stack. */
export function rollbackTarget(state: AppState): ActivationRecord | undefined {
  return state.stack.length >= 2 ? state.stack[state.stack.length - 2] : undefined;
}

/**
 * Pure: where a crash loop of `crashing` goes back to on its own: the
 * rollback target, when `crashing` is the latest activation and that was
 * less than run.restart.min_healthy_s ago; else undefined (the app stays in
 * crashloop until an operator acts).
 */
export function autoRollbackTarget(state: AppState, crashing: ReleaseId, now: number, minHealthyS: number): { target: ActivationRecord; sinceS: number } | undefined {
  const top = state.stack.at(-1);
  const target = rollbackTarget(state);
  if (!top || !target || top.sha256 !== crashing.sha256) return undefined;
  const sinceS = (now - Date.parse(top.at)) / 1000;
  return sinceS < minHealthyS ? { target, sinceS } : undefined;
}

/**
 * Pure: the state after a successful activation: it becomes desired and is
 * pushed on the stack; an undo instead pops the current entry, so the one
 * beneath (the release just activated) is on top again.
 */
export function afterActivation(state: AppState, rec: ActivationRecord, undo = false): AppState {
  const stack = undo ? [...state.stack.slice(0, -2), rec] : [...state.stack, rec];
  return {
    ...state,
    activating: null,
    desired: { version: rec.version, sha256: rec.sha256 },
    stopped: false,
    restarts: 0,
    stack: stack.slice(-STACK_MAX),
    history: [...state.history, rec].slice(-HISTORY_MAX),
  };
}

/** Pure: the state after a restart onto the same release: it runs again; only the history changes (the restart count is still that version's). */
export function afterRestart(state: AppState, rec: ActivationRecord): AppState {
  return { ...state, activating: null, stopped: false, history: [...state.history, rec].slice(-HISTORY_MAX) };
}

/** Pure: the state after a failed activation: only the history changes (and nothing is in progress). */
export function afterFailure(state: AppState, rec: ActivationRecord): AppState {
  return { ...state, activating: null, history: [...state.history, rec].slice(-HISTORY_MAX) };
}
