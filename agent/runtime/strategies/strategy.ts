// Activation strategies behind one interface. A strategy gets narrow
// capabilities from the runtime (start a release, wait until it is ready,
// emit an event) and either returns the new running process or throws
// ActivationFailed after undoing what it did.
import type { AppProcess } from '../process/runner.js';
import type { Release } from '../../storage/releases.js';

export type ActivationEvent = 'unpacking' | 'starting' | 'ready' | 'draining' | 'done' | 'failed' | 'rolled_back' | 'auto_rolled_back';

export interface EventDetail {
  message?: string;
  pid?: number;
  output?: string[];
}

export type Emit = (event: ActivationEvent, detail?: EventDetail) => void;

export interface SwapContext {
  app: string;
  /** The version running now, if any. */
  from?: { proc: AppProcess; release: Release };
  to: Release;
  start(release: Release): Promise<AppProcess>;
  waitReady(proc: AppProcess, release: Release): Promise<void>;
  /** The stop signal and drain deadline come from the release's manifest. */
  stop(proc: AppProcess, release: Release): Promise<void>;
  /** Runs a command in a release's directory with the app's environment; output is the last lines. */
  runCommand(argv: string[], release: Release, pid: number): Promise<{ code: number | null; output: string[] }>;
  emit: Emit;
}

export interface SwapResult {
  proc: AppProcess;
}

export class ActivationFailed extends Error {
  constructor(message: string, readonly output: string[], readonly restored?: AppProcess) {
    super(message);
    this.name = 'ActivationFailed';
  }
}

export interface ActivationStrategy {
  readonly name: string;
  activate(ctx: SwapContext): Promise<SwapResult>;
}
