// Activation strategies behind one interface. A strategy gets narrow
// capabilities from the runtime (start a release, wait until it is ready,
// emit an event) and either returns the new running process or throws
// ActivationFailed after undoing what it did. A cancelled activation (the
// context's signal) is undone the same way: the old version keeps serving,
// or is started again where it was already stopped.
import type { AppProcess } from '../process/runner.js';
import type { Release } from '../../storage/releases.js';

export type ActivationEvent = 'unpacking' | 'starting' | 'ready' | 'draining' | 'done' | 'failed' | 'rolled_back' | 'auto_rolled_back';

export interface EventDetail {
  message?: string;
  pid?: number;
  output?: string[];
  /** On done: the release asked for already ran, so nothing changed. */
  unchanged?: boolean;
}

export type Emit = (event: ActivationEvent, detail?: EventDetail) => void;

export interface SwapContext {
  app: string;
  /** The version running now, if any. */
  from?: { proc: AppProcess; release: Release };
  to: Release;
  /** Aborted when whoever asked for the activation gave up on it. */
  signal: AbortSignal;
  start(release: Release): Promise<AppProcess>;
  /** An abort ends the wait with a failure. */
  waitReady(proc: AppProcess, release: Release, signal?: AbortSignal): Promise<void>;
  /**
   * The stop signal and drain deadline come from the release's manifest.
   * Never cut short by a cancel: a version is gone before it may start again
   * (an app that binds its own port could not), so a stop is waited out.
   */
  stop(proc: AppProcess, release: Release): Promise<void>;
  /** Runs a command in a release's directory with the app's environment; output is the last lines. An abort kills it. */
  runCommand(argv: string[], release: Release, pid: number, signal?: AbortSignal): Promise<{ code: number | null; output: string[] }>;
  emit: Emit;
}

export interface SwapResult {
  proc: AppProcess;
  /** The process that ran `from` runs `to` now (an upgrade command): the records move it to the new release. */
  inPlace?: boolean;
  /** The strategy that did the work, when not the one chosen (the upgrade command with nothing running starts it: restart). */
  strategy?: string;
  /** The old version, still serving beside the new one: it drains once the swap is recorded (the hot strategy). */
  retire?: { proc: AppProcess; release: Release };
}

export class ActivationFailed extends Error {
  /** restored: the process that serves after the failure (the old one, or the old version started again). */
  constructor(message: string, readonly output: string[], readonly restored?: AppProcess) {
    super(message);
    this.name = 'ActivationFailed';
  }
}

export interface ActivationStrategy {
  readonly name: string;
  activate(ctx: SwapContext): Promise<SwapResult>;
}

/** What a cancelled activation (or start) says: the abort's reason when it gave one ("activation cancelled by the client"). */
export function cancelledMessage(signal: AbortSignal, what = 'activation'): string {
  const r: unknown = signal.reason;
  const why = typeof r === 'string' ? r : r instanceof Error && r.name !== 'AbortError' ? r.message : 'cancelled';
  return `${what} ${why}`;
}
