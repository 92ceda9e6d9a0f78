// What a deploy, rollback or start/stop/restart reports while it runs: one
// typed event per step, in the order things happen. The executors emit
// them and print nothing; the CLI renders them (render.ts) and folds them
// into each host's record for the summary and --json (records.ts).
import type { ReleaseRef, Move } from '../plans.js';
import type { HostFailure } from './bounded.js';

/** An agent's event during an activation or a start/stop/restart (the DeployEvent fields the coordinator uses). */
export interface AgentEvent {
  event: string;
  at: string;
  message: string;
  elapsed_s: number;
  pid: number;
  /** On `failed`: the last lines the new version printed. */
  output: string[];
  /** On `done`: the host already ran the release asked for, so nothing changed. */
  unchanged?: boolean;
}

/** How a host is moved: an Activate to a release, or a Control action on what it has. */
export type HostAction =
  | { kind: 'activate'; to: Move; reason: 'deploy' | 'rollback' | 'revert' }
  | { kind: 'control'; action: 'start' | 'stop' | 'restart' };

/** forward: the rollout's own step; revert: putting a host back after another failed. */
export type Phase = 'forward' | 'revert';

/** store: the agent fetched the release from the artifact store (slipway.yaml's store). */
export type UploadChannel = 'data-port' | 'grpc' | 'stored' | 'store';

export type RolloutEvent =
  // Before anything moves (deploy): what each host runs, and the release's upload.
  | { type: 'inspected'; host: string; before: ReleaseRef | null }
  | { type: 'upload_skipped'; host: string; release: { app: string; version: string; sha256: string } }
  /** via store: the agent fetches it from the artifact store (the progress is its bytes). */
  | { type: 'upload_started'; host: string; size: number; via?: 'store' }
  | { type: 'upload_progress'; host: string; sent: number; size: number }
  | { type: 'upload_done'; host: string; bytes: number; alreadyStored: boolean; channel: UploadChannel; fallback?: string }
  | { type: 'upload_failed'; host: string; error: HostFailure }
  /** --upload-only: this host has the release, and that was all. */
  | { type: 'uploaded'; host: string }
  /** No host is switched: not every host has the release, or before_activate failed. */
  | { type: 'stopped_before_activation'; why: 'uploads_incomplete' | 'before_activate_failed'; message: string }
  // The rollout.
  | { type: 'batch_started'; index: number; count: number; hosts: string[] }
  /** from: what the host ran before its forward step (null on a revert, or when it ran nothing). */
  | { type: 'host_started'; host: string; phase: Phase; action: HostAction; from: ReleaseRef | null }
  | { type: 'host_event'; host: string; phase: Phase; action: HostAction['kind']; event: AgentEvent }
  /**
   * callFailed: the call itself failed (no outcome from the agent), as opposed to an agent that said `failed`.
   * unknown: the step's outcome was not seen (the call broke or timed out after the host may have acted, or
   * its stream ended without a last word): never reported as done or failed.
   */
  | { type: 'host_result'; host: string; phase: Phase; action: HostAction['kind']; ok: boolean; error?: HostFailure; callFailed?: boolean; unknown?: boolean }
  /** The revert asks a host whose outcome was unknown what it runs, for up to grace_s. */
  | { type: 'outcome_check'; host: string; grace_s: number }
  /** It answered: it switched (finished while cut off) or not; `runs`: its desired version and state. */
  | { type: 'outcome_learned'; host: string; switched: boolean; runs: string }
  /** It did not answer in time (or its answer settles nothing): it stays unknown. */
  | { type: 'outcome_unresolved'; host: string; message: string }
  /** Ctrl-C: the rollout stopped after the batch that was running. */
  | { type: 'interrupted' }
  /** unknown: those of `hosts` whose outcome was not seen (asked first; put back only if they switched). */
  | { type: 'revert_started'; hosts: string[]; revert: 'all' | 'batch'; unknown?: string[] }
  // After it: what each host runs now, and whether that is what was asked.
  | { type: 'settled'; host: string; state: string; pid: number; ok: boolean; error?: HostFailure };

export type Emit = (e: RolloutEvent) => void;
