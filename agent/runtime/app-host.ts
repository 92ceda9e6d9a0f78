// What the steps of an app's runtime that live in their own modules (an
// activation: activation.ts; reconcile: reconcile.ts; starting a release:
// bring-up.ts) get from their
// AppRuntime: its parts, the app's records, and the three ways to change
// what runs: drive a lifecycle event (app-state.ts), adopt a process as the
// app's, and write state.json.
import type { AppPaths } from '../paths.js';
import type { Logger } from '../logger.js';
import type { AgentEvents, ActivationEnded } from '../events.js';
import type { Releases, Release } from '../storage/releases.js';
import type { AppProcesses } from './app-processes.js';
import type { AppProcess, ProcessRunner } from './process/runner.js';
import type { AppState } from './state.js';
import type { AppEvent, Lifecycle, Transition } from './app-state.js';
import type { Emit } from './strategies/strategy.js';

/** Where an app's releases come from (agent/storage/releases.ts); `apps` lists the apps that have any (registry.ts). */
export type ReleaseSource = Pick<Releases, 'ensureUnpacked' | 'removeTempLeftovers' | 'apps'>;

/** What the effects of an event act on: the release and process it is about, and whom to tell. */
export interface EffectContext {
  release?: Release;
  proc?: AppProcess;
  emit?: Emit;
  /** Ends a readiness wait the effects start (an operator's start given up by its client). */
  signal?: AbortSignal;
}

export interface AppHost {
  readonly app: string;
  readonly paths: AppPaths;
  readonly log: Logger;
  readonly procs: AppProcesses;
  readonly releases: ReleaseSource;
  readonly runner: Pick<ProcessRunner, 'attach'>;
  readonly events?: AgentEvents;
  /** Records an ended activation in the host's history; awaited before the caller hears the outcome. */
  readonly journal?: (e: ActivationEnded) => Promise<void>;
  now(): number;
  /** state.json's contents; saveState writes them. */
  persisted: AppState;
  readonly lifecycle: Lifecycle;
  /** An activation waits for its turn (reconcile then starts nothing itself). */
  readonly activationPending: boolean;
  /** The app's process while it runs, with its release. */
  serving(): { proc: AppProcess; release: Release } | undefined;
  drive(event: AppEvent, ctx?: EffectContext): Promise<Transition>;
  /** Makes proc the app's running process and watches it for crashes. */
  adopt(proc: AppProcess, release: Release): void;
  /** A new process is started in place of the app's process: an exit of the old one is no crash of the app any more. */
  forget(): void;
  saveState(): Promise<void>;
}

/** Timers for the restart policy's delays: `after` runs fn in ms and returns its cancel. */
export interface Timers {
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
